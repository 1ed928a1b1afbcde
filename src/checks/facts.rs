//! Derived facts of `RULES.md` §2.2, computed once from the model.
