//! A grouping of the shop's four components into processes, in the lab's one
//! notation: `+` joins the components of a group, `/` separates the groups.
//! `users+catalog+payments+orders` is everything in one process (the modular
//! monolith), `users/catalog/payments/orders` one process per component (the
//! microservices), `users+payments/catalog/orders` one of the thirteen in
//! between.
//!
//! A grouping is always a partition: every component in exactly one group.
//! It is kept in one canonical form (each group's components, and the groups
//! by their first component, in the order of [`Component::ALL`]), so two
//! spellings of the same grouping compare and print alike.

use std::fmt;
use std::str::FromStr;

use crate::components::Component;

/// A partition of the four components into groups, each group one process.
///
/// Kept as the group of each component (in the order of [`Component::ALL`]),
/// the groups numbered by their first component, so a grouping is a small
/// `Copy` value and equal groupings are equal bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grouping {
    group: [u8; 4],
}

/// Why a grouping's notation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupingError {
    #[error("`{0}` is not a component: choose users, catalog, payments or orders")]
    Unknown(String),
    #[error("an empty group in `{0}`: join components with + and separate groups with /")]
    EmptyGroup(String),
    #[error("{0} is in more than one group")]
    Repeated(Component),
    #[error("{0} is in no group: every component must be in one")]
    Missing(Component),
}

impl Grouping {
    /// Everything in one process: the modular monolith.
    pub const TOGETHER: Grouping = Grouping {
        group: [0, 0, 0, 0],
    };

    /// One process per component: the microservices.
    pub const APART: Grouping = Grouping {
        group: [0, 1, 2, 3],
    };

    /// The groups, in canonical order, each its components in the order of
    /// [`Component::ALL`].
    pub fn groups(&self) -> Vec<Vec<Component>> {
        let mut groups: Vec<Vec<Component>> = Vec::new();
        for (component, &group) in Component::ALL.iter().zip(&self.group) {
            let group = usize::from(group);
            if groups.len() <= group {
                groups.resize_with(group + 1, Vec::new);
            }
            groups[group].push(*component);
        }
        groups
    }

    /// How many groups (processes) it has.
    pub fn processes(&self) -> usize {
        usize::from(self.group.iter().copied().max().unwrap_or(0)) + 1
    }

    /// The index of the group `component` is in.
    pub fn group_of(&self, component: Component) -> usize {
        usize::from(self.group[component as usize])
    }

    /// Whether `a` and `b` share a process, so that a call between them is
    /// a function call.
    pub fn together(&self, a: Component, b: Component) -> bool {
        self.group_of(a) == self.group_of(b)
    }

    /// Every grouping there is: the 15 partitions of four components, from
    /// everything together to everything apart (fewest groups first).
    pub fn all() -> Vec<Grouping> {
        let mut partitions: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in Component::ALL {
            let mut next = Vec::new();
            for partition in partitions {
                let groups = partition.iter().copied().max().map_or(0, |top| top + 1);
                // The component joins each existing group in turn, or
                // starts a group of its own (numbered next, which keeps the
                // numbering canonical).
                for group in 0..=groups {
                    let mut joined = partition.clone();
                    joined.push(group);
                    next.push(joined);
                }
            }
            partitions = next;
        }
        let mut all: Vec<Grouping> = partitions
            .into_iter()
            .map(|group| Grouping {
                group: [group[0], group[1], group[2], group[3]],
            })
            .collect();
        all.sort_by_key(|grouping| (grouping.processes(), grouping.group));
        all
    }

    /// The grouping of these groups, numbered canonically.
    fn of_groups(groups: &[Vec<Component>]) -> Grouping {
        let mut group = [0u8; 4];
        let mut numbered: Vec<usize> = Vec::new();
        for component in Component::ALL {
            let at = groups
                .iter()
                .position(|members| members.contains(&component))
                .unwrap_or(0);
            let number = match numbered.iter().position(|&seen| seen == at) {
                Some(number) => number,
                None => {
                    numbered.push(at);
                    numbered.len() - 1
                }
            };
            group[component as usize] = number as u8;
        }
        Grouping { group }
    }
}

/// One group's components in the notation (`users+payments`), each once,
/// in the order of [`Component::ALL`].
pub fn parse_group(text: &str) -> Result<Vec<Component>, GroupingError> {
    let mut members = Vec::new();
    add_group(text, text, &mut members)?;
    members.sort_by_key(|component| *component as usize);
    Ok(members)
}

/// Reads the group `group` (of the notation `whole`) into `seen`: every
/// component named, none twice, none that is not one.
fn add_group(whole: &str, group: &str, seen: &mut Vec<Component>) -> Result<(), GroupingError> {
    for name in group.split('+') {
        let name = name.trim();
        if name.is_empty() {
            return Err(GroupingError::EmptyGroup(whole.to_owned()));
        }
        let component = Component::ALL
            .into_iter()
            .find(|component| component.name() == name)
            .ok_or_else(|| GroupingError::Unknown(name.to_owned()))?;
        if seen.contains(&component) {
            return Err(GroupingError::Repeated(component));
        }
        seen.push(component);
    }
    Ok(())
}

impl FromStr for Grouping {
    type Err = GroupingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut groups = Vec::new();
        let mut seen = Vec::new();
        for group in text.split('/') {
            let before = seen.len();
            add_group(text, group, &mut seen)?;
            groups.push(seen[before..].to_vec());
        }
        if let Some(missing) = Component::ALL
            .into_iter()
            .find(|component| !seen.contains(component))
        {
            return Err(GroupingError::Missing(missing));
        }
        Ok(Grouping::of_groups(&groups))
    }
}

/// A group's components in the notation: `users+payments`.
pub fn group_name(group: &[Component]) -> String {
    group
        .iter()
        .map(|component| component.name())
        .collect::<Vec<_>>()
        .join("+")
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<String> = self
            .groups()
            .iter()
            .map(|group| group_name(group))
            .collect();
        f.write_str(&groups.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Grouping, GroupingError> {
        text.parse()
    }

    #[test]
    fn a_grouping_reads_and_prints_in_one_canonical_form() {
        let grouping = parse("orders/payments + users/catalog").expect("a partition");
        assert_eq!(grouping.to_string(), "users+payments/catalog/orders");
        assert_eq!(
            grouping,
            parse("users+payments/catalog/orders").expect("a partition")
        );
        assert!(grouping.together(Component::Users, Component::Payments));
        assert!(!grouping.together(Component::Users, Component::Orders));
        assert_eq!(grouping.groups().len(), 3);
    }

    #[test]
    fn a_notation_that_is_not_a_partition_is_refused_with_the_reason() {
        assert_eq!(
            parse("users+stock/catalog/payments/orders"),
            Err(GroupingError::Unknown("stock".into()))
        );
        assert_eq!(
            parse("users//catalog+payments+orders"),
            Err(GroupingError::EmptyGroup(
                "users//catalog+payments+orders".into()
            ))
        );
        assert_eq!(
            parse("users+catalog/catalog+payments+orders"),
            Err(GroupingError::Repeated(Component::Catalog))
        );
        assert_eq!(
            parse("users+catalog/payments"),
            Err(GroupingError::Missing(Component::Orders))
        );
        assert_eq!(
            parse("").map_err(|error| error.to_string()),
            Err("an empty group in ``: join components with + and separate groups with /".into())
        );
    }

    #[test]
    fn one_group_reads_in_order_and_refuses_what_is_not_a_group() {
        assert_eq!(
            parse_group("payments + users"),
            Ok(vec![Component::Users, Component::Payments])
        );
        assert_eq!(
            parse_group("users+users"),
            Err(GroupingError::Repeated(Component::Users))
        );
        assert_eq!(
            parse_group("users+"),
            Err(GroupingError::EmptyGroup("users+".into()))
        );
        assert_eq!(
            group_name(&[Component::Catalog, Component::Orders]),
            "catalog+orders"
        );
    }

    #[test]
    fn there_are_fifteen_groupings_from_all_together_to_all_apart() {
        let all = Grouping::all();
        assert_eq!(all.len(), 15);
        let mut printed: Vec<String> = all.iter().map(Grouping::to_string).collect();
        assert_eq!(
            printed.first().map(String::as_str),
            Some("users+catalog+payments+orders")
        );
        assert_eq!(
            printed.last().map(String::as_str),
            Some("users/catalog/payments/orders")
        );
        assert_eq!(all[0], Grouping::TOGETHER);
        assert_eq!(all[14], Grouping::APART);
        printed.sort();
        printed.dedup();
        assert_eq!(printed.len(), 15, "each grouping once");
        for grouping in &all {
            assert_eq!(parse(&grouping.to_string()).as_ref(), Ok(grouping));
        }
    }
}
