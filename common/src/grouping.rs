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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Grouping {
    groups: Vec<Vec<Component>>,
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
    /// The groups, in canonical order.
    pub fn groups(&self) -> &[Vec<Component>] {
        &self.groups
    }

    /// The index of the group `component` is in.
    pub fn group_of(&self, component: Component) -> usize {
        self.groups
            .iter()
            .position(|group| group.contains(&component))
            .expect("a grouping holds every component")
    }

    /// Whether `a` and `b` share a process, so that a call between them is
    /// a function call.
    pub fn together(&self, a: Component, b: Component) -> bool {
        self.group_of(a) == self.group_of(b)
    }

    /// Every grouping there is: the 15 partitions of four components, from
    /// everything together to everything apart.
    pub fn all() -> Vec<Grouping> {
        let mut partitions: Vec<Vec<Vec<Component>>> = vec![Vec::new()];
        for component in Component::ALL {
            let mut next = Vec::new();
            for partition in partitions {
                // The component joins each existing group in turn...
                for index in 0..partition.len() {
                    let mut joined = partition.clone();
                    joined[index].push(component);
                    next.push(joined);
                }
                // ...or starts a group of its own.
                let mut alone = partition;
                alone.push(vec![component]);
                next.push(alone);
            }
            partitions = next;
        }
        let mut all: Vec<Grouping> = partitions.into_iter().map(Grouping::canonical).collect();
        all.sort_by_key(|grouping| grouping.groups.len());
        all
    }

    fn canonical(mut groups: Vec<Vec<Component>>) -> Grouping {
        let rank = |component: &Component| {
            Component::ALL
                .iter()
                .position(|other| other == component)
                .unwrap_or(usize::MAX)
        };
        for group in &mut groups {
            group.sort_by_key(rank);
        }
        groups.sort_by_key(|group| group.first().map(rank));
        Grouping { groups }
    }
}

impl FromStr for Grouping {
    type Err = GroupingError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut groups = Vec::new();
        let mut seen = Vec::new();
        for group in text.split('/') {
            let mut members = Vec::new();
            for name in group.split('+') {
                let name = name.trim();
                if name.is_empty() {
                    return Err(GroupingError::EmptyGroup(text.to_owned()));
                }
                let component = Component::ALL
                    .into_iter()
                    .find(|component| component.name() == name)
                    .ok_or_else(|| GroupingError::Unknown(name.to_owned()))?;
                if seen.contains(&component) {
                    return Err(GroupingError::Repeated(component));
                }
                seen.push(component);
                members.push(component);
            }
            groups.push(members);
        }
        if let Some(missing) = Component::ALL
            .into_iter()
            .find(|component| !seen.contains(component))
        {
            return Err(GroupingError::Missing(missing));
        }
        Ok(Grouping::canonical(groups))
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|component| component.name())
                    .collect::<Vec<_>>()
                    .join("+")
            })
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
        printed.sort();
        printed.dedup();
        assert_eq!(printed.len(), 15, "each grouping once");
        for grouping in &all {
            assert_eq!(parse(&grouping.to_string()).as_ref(), Ok(grouping));
        }
    }
}
