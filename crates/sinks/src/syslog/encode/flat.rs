//! The fast path of CEF and LEEF: the whole message (RFC 5424 header and body) written in one pass into
//! one buffer, fields read through the category's compiled [`Plan`] and escaped with the table-driven
//! [`Escaper`]s. It writes exactly what the general path (`Encoder::encode_general`) writes when nothing has
//! to be cut; when the message is over the limit it gives up and the general path cuts.

use super::escape::{fit_escaped, push_i64, push_rfc3339, push_u64};
use super::plan::{Plan, View};
use super::{Encoder, MAX_HEADER_FIELD};
use model::Record;
use std::sync::atomic::Ordering;

impl Encoder {
    /// The CEF (`cef`) or LEEF message of `record`, or `None` when it is longer than the limit.
    pub(super) fn flat(&self, record: &Record, plan: &Plan, cef: bool) -> Option<String> {
        let mut view = View::new(record);
        let sev = plan.severity(&mut view);
        let table = plan.category.table();
        let hint = self.size_hint.load(Ordering::Relaxed);
        let mut out = String::with_capacity(hint.min(self.max) + 64);
        self.push_header(&mut out, record, plan, sev);
        let product = super::mapping::product(plan.category);
        let sig = view.first(&plan.signature);
        if cef {
            out.push_str("CEF:0|Microsoft|");
            out.push_str(product);
            out.push_str("|1.0|");
            self.push_header_field(&mut out, table, sig.as_deref());
            out.push('|');
            let name = view.first(&plan.name);
            self.push_header_field(&mut out, name.as_deref().unwrap_or(table), None);
            out.push('|');
            push_u64(&mut out, u64::from(sev));
            out.push('|');
            self.cef_attrs(&mut out, record, plan, &mut view);
        } else {
            out.push_str("LEEF:2.0|Microsoft|");
            out.push_str(product);
            out.push_str("|1.0|");
            self.push_header_field(&mut out, table, sig.as_deref());
            out.push('|');
            out.push_str(&self.leef_shown);
            out.push('|');
            self.leef_attrs(&mut out, record, plan, &mut view, sev);
        }
        if out.len() > self.max {
            return None;
        }
        self.size_hint.store(out.len(), Ordering::Relaxed);
        Some(out)
    }

    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - `.
    pub(super) fn push_header(&self, out: &mut String, record: &Record, plan: &Plan, sev: u8) {
        out.push('<');
        push_u64(out, u64::from(self.pri(sev)));
        out.push_str(">1 ");
        if !push_rfc3339(out, record.event_time, 6) {
            out.push('-');
        }
        out.push(' ');
        out.push_str(&self.hostname);
        out.push(' ');
        out.push_str(&self.app_name);
        out.push_str(" - ");
        out.push_str(&plan.msgid);
        out.push_str(" - ");
    }

    /// A header field: `first` (the table name) or `first:second`, escaped, cut at [`MAX_HEADER_FIELD`].
    fn push_header_field(&self, out: &mut String, first: &str, second: Option<&str>) {
        let mark = out.len();
        self.header_esc.push(first, out);
        if let Some(v) = second {
            out.push(':');
            self.header_esc.push(v, out);
        }
        if out.len() - mark > MAX_HEADER_FIELD {
            out.truncate(mark);
            let raw = match second {
                Some(v) => format!("{first}:{v}"),
                None => first.to_owned(),
            };
            out.push_str(&fit_escaped(&raw, MAX_HEADER_FIELD, &self.header_esc));
        }
    }

    fn cef_attrs(&self, out: &mut String, record: &Record, plan: &Plan, view: &mut View<'_>) {
        let esc = &self.cef_esc;
        out.push_str("rt=");
        let mark = out.len();
        push_i64(out, record.event_time.div_euclid(1000));
        esc.fix_tail(out, mark);
        out.push_str(" cat=");
        esc.push(plan.category.table(), out);
        for (f, srcs) in plan.map.fields.iter().zip(&plan.fields) {
            let Some(v) = view.first(srcs) else { continue };
            if let Some(label) = f.label {
                out.push(' ');
                out.push_str(f.cef);
                out.push_str("Label=");
                esc.push(label, out);
            }
            out.push(' ');
            out.push_str(f.cef);
            out.push('=');
            esc.push(&v, out);
        }
        out.push_str(" flexString1Label=EntrailKey flexString1=");
        esc.push(&record.key, out);
        if plan.map.full_record {
            out.push_str(" msg=");
            esc.push(&record.to_json().to_string(), out);
        }
    }

    fn leef_attrs(
        &self,
        out: &mut String,
        record: &Record,
        plan: &Plan,
        view: &mut View<'_>,
        sev: u8,
    ) {
        let (esc, d) = (&self.leef_esc, self.delimiter);
        out.push_str("devTimeFormat=");
        esc.push("yyyy-MM-dd'T'HH:mm:ss.SSSX", out);
        out.push(d);
        out.push_str("devTime=");
        let mark = out.len();
        if !push_rfc3339(out, record.event_time, 3) {
            out.push_str(&model::format_micros(record.event_time));
        }
        esc.fix_tail(out, mark);
        out.push(d);
        out.push_str("cat=");
        esc.push(plan.category.table(), out);
        out.push(d);
        out.push_str("sev=");
        let mark = out.len();
        push_u64(out, u64::from(sev.max(1)));
        esc.fix_tail(out, mark);
        for (f, srcs) in plan.map.fields.iter().zip(&plan.fields) {
            let Some(v) = view.first(srcs) else { continue };
            out.push(d);
            out.push_str(f.leef);
            out.push('=');
            esc.push(&v, out);
        }
        out.push(d);
        out.push_str("entrailKey=");
        esc.push(&record.key, out);
        if plan.map.full_record {
            out.push(d);
            out.push_str("msg=");
            esc.push(&record.to_json().to_string(), out);
        }
    }
}
