//! A stand-in aggregate (`tactful_stub_count`) for the Ballista plumbing until
//! tactful-datafusion's functions exist. Removed before the branch is done.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{create_udaf, Accumulator, AggregateUDF, Volatility};

#[derive(Debug, Default)]
struct Count(i64);

impl Accumulator for Count {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(v) = values.first() {
            self.0 += (v.len() - v.null_count()) as i64;
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first().and_then(|s| s.as_any().downcast_ref::<Int64Array>()) {
            self.0 += s.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
}

pub(crate) fn stub_count() -> AggregateUDF {
    create_udaf(
        "tactful_stub_count",
        vec![DataType::Int64],
        Arc::new(DataType::Int64),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::new(Count::default()))),
        Arc::new(vec![DataType::Int64]),
    )
}
