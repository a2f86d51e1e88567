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
    let [s] = segments(resource_id(i)?, [key]);
    s
}

/// For each key, the segment of `id` after the key's first occurrence (ASCII case ignored), in one pass.
fn segments<'a, const N: usize>(id: &'a str, keys: [&str; N]) -> [Option<&'a str>; N] {
    let mut out = [None; N];
    let mut seen = [false; N];
    let mut prev: Option<&str> = None;
    for p in id.split('/').filter(|p| !p.is_empty()) {
        if let Some(q) = prev {
            for ((key, seen), out) in keys.iter().zip(&mut seen).zip(&mut out) {
                if !*seen && q.len() == key.len() && q.eq_ignore_ascii_case(key) {
                    *seen = true;
                    *out = Some(p);
                }
            }
        }
        prev = Some(p);
    }
    out
}

/// `ResourceProvider`: the segment after `providers` (`Microsoft.aadiam`).
pub(crate) fn resource_provider<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    segment(i, "providers").and_then(text)
}

/// `ResourceGroup`: the `resourceGroups` segment; for tenant-level Entra resources Log Analytics repeats the
/// provider (`Microsoft.aadiam`).
pub(crate) fn resource_group<'a>(i: &Input<'a>) -> Option<Cow<'a, Node<'a>>> {
    let [group, tenant, provider] =
        segments(resource_id(i)?, ["resourceGroups", "tenants", "providers"]);
    group.or(tenant.and(provider)).and_then(text)
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

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn segments_after_first_occurrence_ignoring_case() {
        let id = "/SUBSCRIPTIONS/s1/resourcegroups/rg1//providers/Microsoft.KeyVault/vaults/providers/x/providers";
        assert_eq!(
            segments(
                id,
                [
                    "subscriptions",
                    "resourceGroups",
                    "providers",
                    "vaults",
                    "nope"
                ]
            ),
            [
                Some("s1"),
                Some("rg1"),
                Some("Microsoft.KeyVault"),
                Some("providers"),
                None
            ]
        );
        assert_eq!(
            segments("/tenants/t/providers", ["tenants", "providers"]),
            [Some("t"), None]
        );
        assert_eq!(segments("", ["tenants"]), [None]);
    }
}
