//! Exact tactful scoring on Apache DataFusion (work in progress on branch df).
