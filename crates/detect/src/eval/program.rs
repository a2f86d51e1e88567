//! Runs a rule's bytecode ([`Program`]) against one record's atoms: one loop, no recursion (but for
//! `Tree` ops), no allocation.

use super::memo::Run;
use super::node;
use crate::plan::program::{Op, Program};

/// Whether the program's condition holds for the record.
#[inline]
pub(crate) fn run(p: &Program, run: &mut Run<'_, '_>) -> bool {
    let ops = p.ops.as_slice();
    let mut acc = false;
    let mut pc = 0usize;
    while let Some(op) = ops.get(pc) {
        pc += 1;
        match *op {
            Op::Atom { id, neg } => acc = run.atom(id) != neg,
            Op::JumpIfFalse(t) => {
                if !acc {
                    pc = t as usize;
                }
            }
            Op::JumpIfTrue(t) => {
                if acc {
                    pc = t as usize;
                }
            }
            Op::Any { start, len, neg } => {
                let (s, l) = (start as usize, len as usize);
                acc = p
                    .ids
                    .get(s..s + l)
                    .is_some_and(|ids| ids.iter().any(|&a| run.atom(a)))
                    != neg;
            }
            Op::Not => acc = !acc,
            Op::Const(b) => acc = b,
            Op::Tree(i) => acc = p.trees.get(i as usize).is_some_and(|n| node::eval(n, run)),
        }
    }
    acc
}
