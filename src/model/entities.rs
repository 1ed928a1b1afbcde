//! The model's entities in node-id byte order: one sorted vector, searched by binary search.
//!
//! This replaces a `BTreeMap<NodeId, Entity>` with the same reading interface (`get`, `iter`,
//! `keys`, `values`, `len`) for a tenth of the bookkeeping: at a million decisions the map's
//! nodes, and the copies made while building it from sorted input, cost a quarter of a gigabyte.
//! Every walk is in node-id byte order, as the map's was.

use serde::Serialize;
use serde::ser::SerializeMap;

use super::Entity;
use crate::event::{EntityType, NodeId};

/// Entities sorted by node id, without duplicates.
#[derive(Clone, Debug, Default)]
pub struct Entities {
    list: Vec<Entity>,
}

impl Entities {
    /// From entities with distinct node ids, in any order.
    pub fn from_unsorted(mut list: Vec<Entity>) -> Entities {
        use rayon::prelude::*;
        list.par_sort_unstable_by(|a, b| a.node.cmp(&b.node));
        debug_assert!(list.windows(2).all(|w| w[0].node < w[1].node));
        Entities { list }
    }

    fn search(&self, node: &str) -> Result<usize, usize> {
        self.list.binary_search_by(|e| e.node.as_str().cmp(node))
    }

    /// The rank of a node id among all entities (the graph's node index of it).
    pub fn position(&self, node: &str) -> Option<usize> {
        self.search(node).ok()
    }

    pub fn get(&self, node: &NodeId) -> Option<&Entity> {
        self.get_str(node.as_str())
    }

    /// [`Entities::get`] by the node id's text.
    pub fn get_str(&self, node: &str) -> Option<&Entity> {
        self.search(node).ok().map(|i| &self.list[i])
    }

    pub fn get_mut(&mut self, node: &NodeId) -> Option<&mut Entity> {
        self.search(node.as_str()).ok().map(|i| &mut self.list[i])
    }

    /// The entity of a rank (see [`Entities::position`]).
    pub fn at(&self, rank: usize) -> &Entity {
        &self.list[rank]
    }

    pub fn contains_key(&self, node: &NodeId) -> bool {
        self.search(node.as_str()).is_ok()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `(node id, entity)` in node-id byte order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&NodeId, &Entity)> + Clone {
        self.list.iter().map(|e| (&e.node, e))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &NodeId> + Clone {
        self.list.iter().map(|e| &e.node)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Entity> + Clone {
        self.list.iter()
    }

    /// The entities of one type (their ids share the prefix `TYPE:`), in node-id order.
    pub fn of_type(&self, ty: EntityType) -> impl Iterator<Item = (&NodeId, &Entity)> + Clone {
        let prefix = format!("{}:", ty.as_str());
        let start = self
            .list
            .partition_point(|e| e.node.as_str() < prefix.as_str());
        self.list[start..]
            .iter()
            .take_while(move |e| e.node.as_str().starts_with(&prefix))
            .map(|e| (&e.node, e))
    }
}

impl<'a> IntoIterator for &'a Entities {
    type Item = (&'a NodeId, &'a Entity);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Entity>, fn(&Entity) -> (&NodeId, &Entity)>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter().map(|e| (&e.node, e))
    }
}

/// As the map it replaces: an object keyed by node id.
impl Serialize for Entities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.list.len()))?;
        for e in &self.list {
            map.serialize_entry(&e.node, e)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(id: &str) -> Entity {
        Entity {
            node: NodeId::from(id),
            ..Entity::default()
        }
    }

    #[test]
    fn entities_are_found_and_walked_in_byte_order() {
        let all = Entities::from_unsorted(vec![
            ent("model_version:m@2"),
            ent("dataset:d@1"),
            ent("model_version:m@1"),
            ent("model:m"),
            ent("decision:x"),
        ]);
        let keys: Vec<&str> = all.keys().map(NodeId::as_str).collect();
        assert_eq!(
            keys,
            [
                "dataset:d@1",
                "decision:x",
                "model:m",
                "model_version:m@1",
                "model_version:m@2"
            ]
        );
        assert!(all.get(&NodeId::from("model:m")).is_some());
        assert!(all.get(&NodeId::from("model:n")).is_none());
        let versions: Vec<&str> = all
            .of_type(EntityType::ModelVersion)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(versions, ["model_version:m@1", "model_version:m@2"]);
        // `model:` is not a prefix match for `model_version:`.
        let models: Vec<&str> = all
            .of_type(EntityType::Model)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(models, ["model:m"]);
        assert_eq!(all.of_type(EntityType::Run).count(), 0);
        assert_eq!(
            serde_json::to_string(&all.get(&NodeId::from("model:m")).map(|e| &e.node)).unwrap(),
            "\"model:m\""
        );
    }
}
