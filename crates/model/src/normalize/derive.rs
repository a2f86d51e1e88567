//! Derived column values shared by several families: the category name and the parts of an Azure
//! `resourceId` (`/subscriptions/{sub}/resourceGroups/{rg}/providers/{rp}/…/{name}`,
//! `/tenants/{tid}/providers/Microsoft.aadiam`), matched ignoring case.

use super::engine::Input;
use super::tree::Node;
use std::borrow::Cow;

fn text<'a>(s: &str) -> Option<Cow<'a, Node<'a>>> {
    Some(Cow::Owned(Node::Str(Cow::Owned(s.to_owned()))))
}

/// The diagnostic-settings category name.
pub(crate) fn category_name<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    Some(Cow::Owned(Node::Str(Cow::Borrowed(i.category.name()))))
}

/// The envelope `resourceId` (the record's own for whole-record families; a Graph object's `resourceId` is
/// something else, the resource application's id).
fn resource_id<'a>(i: &Input<'a>) -> Option<&'a str> {
    let whole = super::mapping(i.category).whole_record;
    i.e("resourceId")
        .or_else(|| if whole { i.g("resourceId") } else { None })?
        .as_str()
}

/// The segment of the resourceId after `key` (`resourceGroups`, `providers`, `subscriptions`).
fn segment<'a>(i: &Input<'a>, key: &str) -> Option<&'a str> {
    let mut parts = resource_id(i)?.split('/').filter(|p| !p.is_empty());
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next();
        }
    }
    None
}

/// `ResourceProvider`: the segment after `providers` (`Microsoft.aadiam`).
pub(crate) fn resource_provider<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    segment(i, "providers").and_then(text)
}

/// `ResourceGroup`: the `resourceGroups` segment; for tenant-level Entra resources Log Analytics repeats the
/// provider (`Microsoft.aadiam`).
pub(crate) fn resource_group<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    segment(i, "resourceGroups")
        .or_else(|| segment(i, "tenants").and_then(|_| segment(i, "providers")))
        .and_then(text)
}

/// `SubscriptionId` from the resourceId.
pub(crate) fn subscription_id<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    segment(i, "subscriptions").and_then(text)
}

/// `Resource`: the last segment of the resourceId.
pub(crate) fn resource_name<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    resource_id(i)?
        .rsplit('/')
        .find(|p| !p.is_empty())
        .and_then(text)
}
