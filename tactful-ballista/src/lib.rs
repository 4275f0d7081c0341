//! tactful on Apache Ballista (work in progress on branch df).
