//! A rule's condition as flat bytecode: a short-circuit jump program over the record's atoms, run in one
//! loop without recursion or allocation (`eval::program`). One accumulator holds the current verdict: an
//! atom op sets it, `JumpIfFalse` / `JumpIfTrue` skip the rest of an AND / OR once its verdict is known.
//! The rare nodes that need more than one boolean (`2 of selection_*`, `fieldref` items, which have no
//! atoms) stay trees and are evaluated recursively by a `Tree` op.

use super::{ItemKind, Node};

/// One instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `acc = atom(id) != neg`.
    Atom {
        /// Atom id.
        id: u32,
        /// Negate the result (`field: null`, `exists: false`).
        neg: bool,
    },
    /// `acc = any(atom(ids[start..start + len])) != neg` (a field with several targets).
    Any {
        /// First position in [`Program::ids`].
        start: u32,
        /// Number of atoms.
        len: u32,
        /// Negate the result.
        neg: bool,
    },
    /// `acc = !acc`.
    Not,
    /// `acc = value`.
    Const(bool),
    /// Continue at the target when `acc` is false.
    JumpIfFalse(u32),
    /// Continue at the target when `acc` is true.
    JumpIfTrue(u32),
    /// `acc` = the tree [`Program::trees`]`[i]`, evaluated recursively.
    Tree(u32),
}

/// A compiled condition.
#[derive(Debug, Clone, Default)]
pub(crate) struct Program {
    /// The instructions; the verdict is `acc` after the last.
    pub(crate) ops: Vec<Op>,
    /// Atom lists of `Any` ops.
    pub(crate) ids: Vec<u32>,
    /// Subtrees of `Tree` ops.
    pub(crate) trees: Vec<Node>,
}

impl Program {
    /// Compiles a condition whose items already carry their atom ids (`atoms::Atoms::build`).
    pub(crate) fn compile(root: &Node) -> Program {
        let mut p = Program::default();
        p.emit(root);
        p.thread();
        p
    }

    fn emit(&mut self, n: &Node) {
        match n {
            Node::And(v) | Node::Or(v) => {
                let and = matches!(n, Node::And(_));
                if v.is_empty() {
                    self.ops.push(Op::Const(and));
                    return;
                }
                let mut jumps = Vec::new();
                for (i, c) in v.iter().enumerate() {
                    self.emit(c);
                    if i + 1 < v.len() {
                        jumps.push(self.ops.len());
                        self.ops.push(if and {
                            Op::JumpIfFalse(0)
                        } else {
                            Op::JumpIfTrue(0)
                        });
                    }
                }
                let end = self.ops.len() as u32;
                for j in jumps {
                    self.ops[j] = match self.ops[j] {
                        Op::JumpIfFalse(_) => Op::JumpIfFalse(end),
                        _ => Op::JumpIfTrue(end),
                    };
                }
            }
            Node::Not(x) => {
                self.emit(x);
                self.ops.push(Op::Not);
            }
            Node::Const(b) => self.ops.push(Op::Const(*b)),
            Node::Item(ip) if !ip.atoms.is_empty() => {
                let neg = match &ip.kind {
                    ItemKind::Null => true,
                    ItemKind::Exists(want) => !*want,
                    _ => false,
                };
                if let [id] = ip.atoms.as_slice() {
                    self.ops.push(Op::Atom { id: *id, neg });
                } else {
                    self.ops.push(Op::Any {
                        start: self.ids.len() as u32,
                        len: ip.atoms.len() as u32,
                        neg,
                    });
                    self.ids.extend_from_slice(&ip.atoms);
                }
            }
            Node::AtLeast(..) | Node::Item(_) => {
                self.ops.push(Op::Tree(self.trees.len() as u32));
                self.trees.push(n.clone());
            }
        }
    }

    /// Jump threading: a jump that lands on a jump taken for the same `acc` goes straight to that jump's
    /// target; one that lands on a jump never taken for its `acc` goes just past it.
    fn thread(&mut self) {
        for i in 0..self.ops.len() {
            let (want, mut t) = match self.ops[i] {
                Op::JumpIfFalse(t) => (false, t),
                Op::JumpIfTrue(t) => (true, t),
                _ => continue,
            };
            // Targets only move forward, so this ends.
            loop {
                match self.ops.get(t as usize) {
                    Some(Op::JumpIfFalse(u)) if !want => t = *u,
                    Some(Op::JumpIfTrue(u)) if want => t = *u,
                    Some(Op::JumpIfFalse(_)) | Some(Op::JumpIfTrue(_)) => t += 1,
                    _ => break,
                }
            }
            self.ops[i] = if want {
                Op::JumpIfTrue(t)
            } else {
                Op::JumpIfFalse(t)
            };
        }
    }
}
