//! NSG and VNet flow logs (wire-formats.md §7): one diagnostic record expands to one record per flow tuple.
//!
//! - NSG (`NetworkSecurityGroupFlowEvent`): `properties.flows[].flows[].flowTuples[]`, each
//!   `epochSeconds,src,dst,srcPort,dstPort,T|U,I|O,A|D[,B|C|E,pktsOut,bytesOut,pktsIn,bytesIn]` (8 fields in
//!   version 1, 13 in version 2; `B` tuples have empty counters).
//! - VNet (`FlowLogFlowEvent`, version 4): `flowRecords.flows[].flowGroups[].flowTuples[]`, each
//!   `epochMilliseconds,src,dst,srcPort,dstPort,protocolNumber,I|O,B|C|E|D,encryption,pktsOut,bytesOut,pktsIn,bytesIn`.
//!
//! Log Analytics rows (`Flows` / `FlowRecords` columns, maybe JSON strings; `TimeGenerated` for `time`) expand
//! the same way.
//!
//! Each tuple becomes a flat object (envelope fields, its rule/aclID/mac, the parsed tuple) that the table
//! below maps like any other record; that object's JSON is the record's `raw`, so a record does not repeat its
//! siblings. `L4Protocol` is `T`/`U` for TCP/UDP (VNet protocol numbers 6/17; other numbers kept as given).
//! The event time is the tuple's start; `TimeGenerated` the envelope `time`. The key is a content hash over
//! resource, MAC, rule and the tuple, plus the event time. A malformed tuple rejects the whole record, naming
//! the tuple's path.

use super::DecodeError;
use super::engine::{self, Input, Mapping, Src};
use super::lenient::{canonical, is_nullish};
use super::projection::Projection;
use super::tree::{Entries, Node, Num, Obj, get_ci};
use crate::Category;
use crate::record::{Record, Shape, format_micros};
use Src::G;
use std::borrow::Cow;

/// Canonical column ← field of the per-tuple object.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AclId", &[G("aclID")]),
    ("AclRule", &[G("rule")]),
    ("BytesDestToSrc", &[G("bytesDestToSrc")]),
    ("BytesSrcToDest", &[G("bytesSrcToDest")]),
    ("DestIp", &[G("destIp")]),
    ("DestPort", &[G("destPort")]),
    ("FlowDirection", &[G("flowDirection")]),
    ("FlowEncryption", &[G("flowEncryption")]),
    ("FlowLogGuid", &[G("flowLogGUID")]),
    ("FlowLogResourceId", &[G("flowLogResourceID")]),
    ("FlowLogVersion", &[G("version")]),
    ("FlowStartTime", &[G("flowStartTime")]),
    ("FlowState", &[G("flowState")]),
    ("FlowStatus", &[G("flowStatus")]),
    ("FlowTuple", &[G("flowTuple")]),
    ("L4Protocol", &[G("l4Protocol")]),
    ("MacAddress", &[G("mac"), G("macAddress")]),
    ("PacketsDestToSrc", &[G("packetsDestToSrc")]),
    ("PacketsSrcToDest", &[G("packetsSrcToDest")]),
    ("ResourceId", &[G("resourceId")]),
    ("SrcIp", &[G("srcIp")]),
    ("SrcPort", &[G("srcPort")]),
    ("TargetResourceId", &[G("targetResourceID")]),
];

/// The flow mapping (over the per-tuple object).
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    whole_record: true,
    time_fields: &["flowStartTime"],
    ..Mapping::EMPTY
};

/// Expands one flow-log record into one record per tuple.
pub(crate) fn decode<'a>(
    env: &'a Entries<'a>,
    category: Category,
    shape: Shape,
    ingest_time: i64,
    source: &str,
    projection: Option<&Projection>,
) -> Result<Vec<Record>, DecodeError> {
    let mut base: Obj<'a> = Vec::new();
    let time_key = if shape == Shape::LogAnalytics {
        "TimeGenerated"
    } else {
        "time"
    };
    for (key, out) in [
        (time_key, "time"),
        ("resourceId", "resourceId"),
        ("macAddress", "macAddress"),
        ("flowLogResourceID", "flowLogResourceID"),
        ("targetResourceID", "targetResourceID"),
        ("flowLogGUID", "flowLogGUID"),
        ("flowLogVersion", "version"),
    ] {
        if let Some(v) = get_ci(env, key).filter(|v| !is_nullish(v)) {
            base.push((Cow::Borrowed(out), v.clone()));
        }
    }
    let mut out = Vec::new();
    let cx = Cx {
        category,
        shape,
        ingest_time,
        source,
        projection,
    };
    if category == Category::VnetFlowLogs {
        let records = nested(get_ci(env, "flowRecords"));
        let flows = array(
            records
                .as_ref()
                .and_then(|r| r.as_obj())
                .and_then(|r| get_ci(r, "flows")),
            "flowRecords.flows",
        )?;
        for (i, flow) in flows.iter().enumerate() {
            let path = format!("flowRecords.flows[{i}]");
            let flow = object(flow, &path)?;
            let mut ctx = base.clone();
            copy(flow, &mut ctx, "aclID");
            let groups = array(get_ci(flow, "flowGroups"), &format!("{path}.flowGroups"))?;
            for (j, group) in groups.iter().enumerate() {
                let path = format!("{path}.flowGroups[{j}]");
                let group = object(group, &path)?;
                let mut ctx = ctx.clone();
                copy(group, &mut ctx, "rule");
                tuples(group, &ctx, &path, Tuple::Vnet, &cx, &mut out)?;
            }
        }
    } else {
        // Diagnostic: `properties.{Version, flows}`; Log Analytics: `Version` and `Flows` columns.
        let props = if shape == Shape::LogAnalytics {
            env
        } else {
            get_ci(env, "properties")
                .and_then(Node::as_obj)
                .ok_or_else(|| DecodeError::field("properties", "missing or not an object"))?
        };
        if let Some(v) = get_ci(props, "Version").filter(|v| !is_nullish(v)) {
            base.push((Cow::Borrowed("version"), v.clone()));
        }
        let flows = nested(get_ci(props, "flows"));
        let name = if shape == Shape::LogAnalytics {
            "Flows"
        } else {
            "properties.flows"
        };
        let flows = array(flows.as_deref(), name)?;
        for (i, flow) in flows.iter().enumerate() {
            let path = format!("properties.flows[{i}]");
            let flow = object(flow, &path)?;
            let mut ctx = base.clone();
            copy(flow, &mut ctx, "rule");
            let inner = array(get_ci(flow, "flows"), &format!("{path}.flows"))?;
            for (j, group) in inner.iter().enumerate() {
                let path = format!("{path}.flows[{j}]");
                let group = object(group, &path)?;
                let mut ctx = ctx.clone();
                copy(group, &mut ctx, "mac");
                tuples(group, &ctx, &path, Tuple::Nsg, &cx, &mut out)?;
            }
        }
    }
    Ok(out)
}

/// What the tuples need from the caller.
struct Cx<'s> {
    category: Category,
    shape: Shape,
    ingest_time: i64,
    source: &'s str,
    projection: Option<&'s Projection>,
}

/// A nested value, parsed when it arrives as a JSON string (Log Analytics dynamic columns).
fn nested<'a>(v: Option<&'a Node<'a>>) -> Option<Cow<'a, Node<'a>>> {
    match v? {
        Node::Str(s) => Node::parse(s).ok().map(Cow::Owned),
        other => Some(Cow::Borrowed(other)),
    }
}

fn array<'n, 'a>(v: Option<&'n Node<'a>>, path: &str) -> Result<&'n [Node<'a>], DecodeError> {
    match v {
        Some(Node::Arr(a)) => Ok(a),
        Some(other) => Err(DecodeError::field(
            path,
            format!("not an array: {}", other.kind()),
        )),
        None => Err(DecodeError::field(path, "missing")),
    }
}

fn object<'n, 'a>(v: &'n Node<'a>, path: &str) -> Result<&'n Entries<'a>, DecodeError> {
    v.as_obj()
        .map(Vec::as_slice)
        .ok_or_else(|| DecodeError::field(path, format!("not an object: {}", v.kind())))
}

fn copy<'a>(from: &Entries<'a>, to: &mut Obj<'a>, key: &'static str) {
    if let Some(v) = get_ci(from, key).filter(|v| !is_nullish(v)) {
        to.push((Cow::Borrowed(key), v.clone()));
    }
}

/// The two tuple layouts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tuple {
    Nsg,
    Vnet,
}

fn tuples<'a>(
    group: &'a Entries<'a>,
    ctx: &Obj<'a>,
    path: &str,
    layout: Tuple,
    cx: &Cx<'_>,
    out: &mut Vec<Record>,
) -> Result<(), DecodeError> {
    let list = array(get_ci(group, "flowTuples"), &format!("{path}.flowTuples"))?;
    for (k, t) in list.iter().enumerate() {
        let tpath = format!("{path}.flowTuples[{k}]");
        let Node::Str(text) = t else {
            return Err(DecodeError::field(
                &tpath,
                format!("not a string: {}", t.kind()),
            ));
        };
        let mut obj = ctx.clone();
        parse_tuple(text.as_ref(), layout, &mut obj)
            .map_err(|m| DecodeError::field(&tpath, format!("{m}: {text:?}")))?;
        let input = Input {
            category: cx.category,
            shape: Shape::Diagnostic,
            graph: Some(obj.as_slice()),
            env: Some(obj.as_slice()),
            row: None,
            graph_prefix: "",
        };
        let mut rec = engine::build(&input, cx.ingest_time, cx.source, cx.projection)?;
        rec.shape = cx.shape;
        rec.raw = canonical(&Node::Obj(obj));
        out.push(rec);
    }
    Ok(())
}

/// Parses one tuple into the per-tuple object.
fn parse_tuple<'a>(text: &'a str, layout: Tuple, obj: &mut Obj<'a>) -> Result<(), &'static str> {
    let f: Vec<&str> = text.split(',').map(str::trim).collect();
    let ok_len = match layout {
        Tuple::Nsg => f.len() == 8 || f.len() == 13,
        Tuple::Vnet => f.len() == 13,
    };
    if !ok_len {
        return Err(if layout == Tuple::Nsg {
            "flow tuple has neither 8 (version 1) nor 13 (version 2) fields"
        } else {
            "flow tuple does not have 13 fields"
        });
    }
    let epoch: i64 = f[0]
        .parse()
        .map_err(|_| "flow tuple time is not an integer")?;
    let micros = match layout {
        Tuple::Nsg => epoch.checked_mul(1_000_000),
        Tuple::Vnet => epoch.checked_mul(1_000),
    }
    .ok_or("flow tuple time out of range")?;
    let mut put = |k: &'static str, v: Node<'a>| obj.push((Cow::Borrowed(k), v));
    let s = |t: &'a str| Node::Str(Cow::Borrowed(t));
    put("flowTuple", s(text));
    put(
        "flowStartTime",
        Node::Str(Cow::Owned(format_micros(micros))),
    );
    put("srcIp", s(f[1]));
    put("destIp", s(f[2]));
    put("srcPort", port(f[3])?);
    put("destPort", port(f[4])?);
    let proto = match (layout, f[5]) {
        (Tuple::Vnet, "6") => "T",
        (Tuple::Vnet, "17") => "U",
        (_, p) => p,
    };
    put("l4Protocol", s(proto));
    put("flowDirection", s(f[6]));
    let counters = match layout {
        Tuple::Nsg => {
            put("flowStatus", s(f[7]));
            if f.len() == 8 {
                return Ok(());
            }
            put("flowState", s(f[8]));
            &f[9..13]
        }
        Tuple::Vnet => {
            put("flowState", s(f[7]));
            put("flowEncryption", s(f[8]));
            &f[9..13]
        }
    };
    for (name, v) in [
        "packetsSrcToDest",
        "bytesSrcToDest",
        "packetsDestToSrc",
        "bytesDestToSrc",
    ]
    .into_iter()
    .zip(counters)
    {
        if !v.is_empty() {
            let n: u64 = v
                .parse()
                .map_err(|_| "flow tuple counter is not an integer")?;
            put(name, Node::Num(Num::U(n)));
        }
    }
    Ok(())
}

fn port(s: &str) -> Result<Node<'static>, &'static str> {
    s.parse::<u16>()
        .map(|p| Node::Num(Num::U(u64::from(p))))
        .map_err(|_| "flow tuple port is not a port number")
}
