"""Names that `from module import *` brings in from Glue's and Spark's modules, which are not installed where the
analysis runs (they live on the Glue workers): pylint cannot see them and reports each use as undefined.

From the modules' public names (aws-glue-libs `awsglue/transforms/__init__.py`, PySpark 3.x
`pyspark.sql.functions` and `pyspark.sql.types`); a name missing here is reported as pylint reports it.
"""

from __future__ import annotations

AWSGLUE_TRANSFORMS = frozenset({
    "ApplyMapping", "DropFields", "DropNullFields", "ErrorsAsDynamicFrame", "FillMissingValues", "Filter",
    "FindIncrementalMatches", "FindMatches", "FlatMap", "GlueTransform", "Join", "Map", "MapToCollection",
    "Relationalize", "RenameField", "ResolveChoice", "SelectFields", "SelectFromCollection", "Spigot",
    "SplitFields", "SplitRows", "Unbox", "UnnestFrame", "Union", "DropDuplicates", "EvaluateDataQuality",
})

PYSPARK_TYPES = frozenset({
    "DataType", "NullType", "StringType", "CharType", "VarcharType", "BinaryType", "BooleanType", "DateType",
    "TimestampType", "TimestampNTZType", "DecimalType", "DoubleType", "FloatType", "ByteType", "IntegerType",
    "LongType", "ShortType", "ArrayType", "MapType", "StructField", "StructType", "DayTimeIntervalType",
    "YearMonthIntervalType", "Row", "AtomicType", "NumericType", "IntegralType", "FractionalType",
})

PYSPARK_FUNCTIONS = frozenset({
    "abs", "acos", "add_months", "aggregate", "approx_count_distinct", "array", "array_contains",
    "array_distinct", "array_except", "array_intersect", "array_join", "array_max", "array_min",
    "array_position", "array_remove", "array_repeat", "array_sort", "array_union", "arrays_overlap",
    "arrays_zip", "asc", "asc_nulls_first", "asc_nulls_last", "ascii", "asin", "atan", "atan2", "avg",
    "base64", "bin", "bit_length", "bitwise_not", "broadcast", "bround", "bucket", "cbrt", "ceil", "coalesce",
    "col", "collect_list", "collect_set", "column", "concat", "concat_ws", "conv", "corr", "cos", "cosh",
    "count", "count_distinct", "countDistinct", "covar_pop", "covar_samp", "crc32", "create_map",
    "cume_dist", "current_date", "current_timestamp", "date_add", "date_format", "date_sub", "date_trunc",
    "datediff", "dayofmonth", "dayofweek", "dayofyear", "days", "decode", "degrees", "dense_rank", "desc",
    "desc_nulls_first", "desc_nulls_last", "element_at", "encode", "exists", "exp", "explode",
    "explode_outer", "expm1", "expr", "factorial", "filter", "first", "flatten", "floor", "forall",
    "format_number", "format_string", "from_csv", "from_json", "from_unixtime", "from_utc_timestamp",
    "get_json_object", "greatest", "grouping", "grouping_id", "hash", "hex", "hour", "hours", "hypot",
    "initcap", "input_file_name", "instr", "isnan", "isnull", "json_tuple", "kurtosis", "lag", "last",
    "last_day", "lead", "least", "length", "levenshtein", "lit", "locate", "log", "log10", "log1p", "log2",
    "lower", "lpad", "ltrim", "make_date", "map_concat", "map_entries", "map_filter", "map_from_arrays",
    "map_from_entries", "map_keys", "map_values", "map_zip_with", "max", "max_by", "md5", "mean", "min",
    "min_by", "minute", "monotonically_increasing_id", "month", "months", "months_between", "nanvl",
    "next_day", "nth_value", "ntile", "overlay", "pandas_udf", "percent_rank", "percentile_approx", "posexplode",
    "posexplode_outer", "pow", "product", "quarter", "radians", "raise_error", "rand", "randn", "rank",
    "regexp_extract", "regexp_replace", "repeat", "reverse", "rint", "round", "row_number", "rpad", "rtrim",
    "schema_of_csv", "schema_of_json", "second", "sequence", "sha1", "sha2", "shiftleft", "shiftright",
    "shuffle", "signum", "sin", "sinh", "size", "skewness", "slice", "sort_array", "soundex",
    "spark_partition_id", "split", "sqrt", "stddev", "stddev_pop", "stddev_samp", "struct", "substring",
    "substring_index", "sum", "sum_distinct", "sumDistinct", "tan", "tanh", "timestamp_seconds", "to_csv",
    "to_date", "to_json", "to_timestamp", "to_utc_timestamp", "transform", "transform_keys",
    "transform_values", "translate", "trim", "trunc", "udf", "unbase64", "unhex", "unix_timestamp", "upper",
    "var_pop", "var_samp", "variance", "weekofyear", "when", "window", "xxhash64", "year", "years", "zip_with",
})

STAR_EXPORTS = {
    "awsglue.transforms": AWSGLUE_TRANSFORMS,
    "pyspark.sql.types": PYSPARK_TYPES,
    "pyspark.sql.functions": PYSPARK_FUNCTIONS,
}
