//! The aggregate UDF: DataFusion's view of one tactful function (its name,
//! argument coercion, return and state types, and its accumulators).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility,
};

use crate::accumulator::{ProfileAccumulator, ProfilesAccumulator};
use crate::facts;
use crate::output::Output;
use crate::state::state_types;
use crate::Config;

/// One tactful aggregate function.
#[derive(Debug)]
pub(crate) struct TactfulUdaf {
    config: Arc<Config>,
    output: Output,
    signature: Signature,
}

impl TactfulUdaf {
    pub(crate) fn new(config: Arc<Config>, output: Output) -> Self {
        Self {
            config,
            output,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

// DataFusion compares functions to deduplicate expressions: two are the
// same when they come from the same configuration and give the same answer.
impl PartialEq for TactfulUdaf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config) && self.output == other.output
    }
}

impl Eq for TactfulUdaf {}

impl Hash for TactfulUdaf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (Arc::as_ptr(&self.config) as usize).hash(state);
        self.output.hash(state);
    }
}

impl AggregateUDFImpl for TactfulUdaf {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        facts::coerce(self.name(), arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.output.data_type())
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(ProfileAccumulator::new(
            Arc::clone(&self.config),
            self.output,
        )))
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        let [bytes, counts] = state_types();
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "partial"),
                bytes,
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "unreadable"),
                counts,
                true,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(ProfilesAccumulator::new(
            Arc::clone(&self.config),
            self.output,
        )))
    }
}
