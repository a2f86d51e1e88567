//! `_Raw` of files written with `archive.raw = "residual"`: the table is registered as a view whose `_Raw`
//! is `entrail_raw(_Raw, <text columns>)`, which puts the row's column values back into the residual
//! ([`crate::archive::residual`]), and whose `_Key` is the id column where the file stores a reference to
//! it. A query that does not read `_Raw` reads none of those columns for it
//! (the optimizer drops the unused expression); rows stored as plain text come back as they are.
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{Expr, SessionContext, ident, lit, when};
use model::Category;

use crate::archive::residual;
use crate::archive::{KEY_COLUMN, arrow_schema};

/// The raw record's column.
const RAW_COLUMN: &str = "_Raw";

/// `table` as a view whose `_Raw` is decoded from residuals.
pub(crate) fn decoded_view(
    ctx: &SessionContext,
    table: Arc<dyn TableProvider>,
    category: Category,
) -> DfResult<Arc<dyn TableProvider>> {
    let data_columns = model::schema(category).columns.len();
    let schema = arrow_schema(category);
    let mut args = vec![ident(RAW_COLUMN)];
    for i in residual::text_columns(&schema, data_columns) {
        args.push(ident(schema.field(i).name()));
    }
    let udf = ScalarUDF::from(RawUdf::default());
    // `_Key`: the id column where it holds the one reference to it, else the key (decoded in case it was
    // escaped): reads `_Key` and the id column only.
    let key = match residual::key_column(category, &schema, data_columns) {
        Some((id, k)) => when(
            ident(KEY_COLUMN).eq(lit(residual::reference(k))),
            ident(schema.field(id).name()),
        )
        .otherwise(udf.call(vec![ident(KEY_COLUMN)]))?,
        None => udf.call(vec![ident(KEY_COLUMN)]),
    };
    let rows = ctx.read_table(table)?;
    let exprs: Vec<Expr> = rows
        .schema()
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            RAW_COLUMN => udf.call(args.clone()).alias(RAW_COLUMN),
            KEY_COLUMN => key.clone().alias(KEY_COLUMN),
            name => ident(name),
        })
        .collect();
    Ok(rows.select(exprs)?.into_view())
}

/// `entrail_raw(_Raw, text column 0, text column 1, ...)`: the raw text of each row.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RawUdf {
    signature: Signature,
}

impl Default for RawUdf {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// A text array of either layout the archive is read with.
enum Text<'a> {
    Plain(&'a datafusion::arrow::array::StringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
}

impl<'a> Text<'a> {
    fn of(array: &'a ArrayRef) -> DfResult<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(Self::Plain(array.as_string::<i32>())),
            DataType::Utf8View => Ok(Self::View(array.as_string_view())),
            other => Err(DataFusionError::Execution(format!(
                "entrail_raw: a text argument is {other}"
            ))),
        }
    }

    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            Self::Plain(a) => a.is_valid(row).then(|| a.value(row)),
            Self::View(a) => a.is_valid(row).then(|| a.value(row)),
        }
    }
}

impl ScalarUDFImpl for RawUdf {
    fn name(&self) -> &str {
        "entrail_raw"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Utf8))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(raw_array) = arrays.first() else {
            return Err(DataFusionError::Execution(
                "entrail_raw: no _Raw argument".into(),
            ));
        };
        let raw = Text::of(raw_array)?;
        let rows = raw_array.len();
        if !(0..rows).any(|r| raw.get(r).is_some_and(residual::is_residual)) {
            return Ok(ColumnarValue::Array(raw_array.clone()));
        }
        let columns = arrays
            .get(1..)
            .unwrap_or_default()
            .iter()
            .map(Text::of)
            .collect::<DfResult<Vec<_>>>()?;
        let mut out = StringBuilder::with_capacity(rows, 0);
        for row in 0..rows {
            let Some(stored) = raw.get(row) else {
                out.append_null();
                continue;
            };
            let text = residual::decode(stored, |k| columns.get(k).and_then(|c| c.get(row)))
                .map_err(|e| DataFusionError::Execution(format!("_Raw of a row: {e}")))?;
            out.append_value(text);
        }
        let out: ArrayRef = Arc::new(out.finish());
        Ok(ColumnarValue::Array(cast(&out, raw_array.data_type())?))
    }
}
