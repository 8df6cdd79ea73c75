import textwrap
import time
from pathlib import Path

import pytest

from glue_inventory.analysis.code.rules import RULE_IDS, run_code_rules
from glue_inventory.analysis.findings import SEVERITIES, JobContext

SCRIPTS = Path(__file__).parent / "scripts"

GLUE_PREAMBLE = """\
import sys
from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F
glueContext = GlueContext(SparkContext.getOrCreate())
spark = glueContext.spark_session
"""


def rules_for(snippet: str) -> list[dict]:
    return run_code_rules(GLUE_PREAMBLE + textwrap.dedent(snippet))


def lines_of(snippet: str, rule_id: str) -> list[int]:
    offset = GLUE_PREAMBLE.count("\n")
    return [f["line"] - offset for f in rules_for(snippet) if f["rule_id"] == rule_id]


CASES = [
    # collect-on-large-data
    ("collect-on-large-data", 'df = spark.read.parquet("s3://b/x")\nrows = df.collect()', [2]),
    ("collect-on-large-data", 'pdf = spark.table("sales.orders").toPandas()', [1]),
    ("collect-on-large-data", "def f(df):\n    return df.select('a').collect()", [2]),
    ("collect-on-large-data", 'df = spark.read.parquet("p")\nrows = df.limit(10).collect()', []),
    ("collect-on-large-data", 'df = spark.read.parquet("p")\nfew = df.limit(5)\nrows = few.collect()', []),
    ("collect-on-large-data", "rows = spark.sparkContext.parallelize([1, 2, 3]).collect()", []),
    ("collect-on-large-data", "data = [(1, 'a')]\nrows = spark.createDataFrame(data).collect()", []),
    ("collect-on-large-data", 'm = spark.sql("SELECT max(ts) FROM t").collect()[0][0]', []),
    ("collect-on-large-data", 'm = spark.sql("SELECT a, count(*) FROM t GROUP BY a").collect()', [1]),
    ("collect-on-large-data", 'total = spark.table("t").agg(F.sum("x")).collect()', []),
    ("collect-on-large-data", 'per_key = spark.table("t").groupBy("k").agg(F.sum("x")).collect()', [1]),
    ("collect-on-large-data", "import gc\ngc.collect()", []),
    # single-partition-write
    ("single-partition-write", 'spark.table("t").repartition(1).write.mode("overwrite").csv("s3://b/o")', [1]),
    ("single-partition-write", 'df = spark.table("t")\nout = df.coalesce(1)\nout.write.mode("append").json("p")', [2]),
    (
        "single-partition-write",
        """\
        from awsglue.dynamicframe import DynamicFrame
        df = spark.table("t")
        single = DynamicFrame.fromDF(df.coalesce(1), glueContext, "single")
        glueContext.write_dynamic_frame.from_options(frame=single, connection_type="s3",
            connection_options={"path": "s3://b/o"}, format="csv")
        """,
        [3],
    ),
    ("single-partition-write", 'df = spark.table("t").coalesce(1)\nprint(df.count())', []),
    ("single-partition-write", 'spark.table("t").repartition(200).write.mode("overwrite").parquet("p")', []),
    ("single-partition-write", 'spark.table("t").coalesce(8).write.mode("overwrite").parquet("p")', []),
    # single-partition-write through variables, helpers, DynamicFrames and Glue transforms
    ("single-partition-write", 'df = spark.table("t")\nout = df.repartition(1)\nfinal = out.withColumn("x", F.lit(1))\n'
     'final = final.filter("x > 0")\nfinal.write.mode("overwrite").parquet("p")', [2]),
    ("single-partition-write", 'def save(frame, path):\n    frame.write.mode("overwrite").csv(path)\n'
     'save(spark.table("t").coalesce(1), "p")', [3]),
    ("single-partition-write", 'def one_file(df):\n    return df.coalesce(1)\n'
     'one_file(spark.table("t")).write.mode("append").json("p")', [2]),
    ("single-partition-write", 'dyf = glueContext.create_dynamic_frame.from_catalog(database="d", table_name="t",\n'
     '    transformation_ctx="s")\nsingle = dyf.repartition(1)\n'
     'glueContext.write_dynamic_frame.from_options(frame=single, connection_type="s3",\n'
     '    connection_options={"path": "s3://b/o"}, format="csv")', [3]),
    ("single-partition-write", 'from awsglue.transforms import ApplyMapping\n'
     'mapped = ApplyMapping.apply(frame=dyf.coalesce(1), mappings=[])\n'
     'glueContext.write_dynamic_frame.from_options(frame=mapped, connection_type="s3")', [2]),
    ("single-partition-write", 'n = 1\nspark.table("t").coalesce(n).write.mode("overwrite").csv("p")', [2]),
    ("single-partition-write", 'spark.table("t").coalesce(1).groupBy("k").count().write.mode("overwrite").csv("p")',
     []),
    ("single-partition-write", 'out = spark.table("t").coalesce(1)\nout = spark.table("u")\n'
     'out.write.mode("overwrite").csv("p")', []),
    # withcolumn-in-loop
    ("withcolumn-in-loop", 'df = spark.table("t")\nfor c in df.columns:\n    df = df.withColumn(c, F.trim(c))', [3]),
    ("withcolumn-in-loop", 'df = spark.table("t")\nfor old, new in [("a", "b")]:\n'
     '    # renamed one at a time\n    df = df.withColumnRenamed(old, new)', [4]),
    ("withcolumn-in-loop", 'from functools import reduce\n'
     'df = reduce(lambda acc, c: acc.withColumn(c, F.col(c).cast("int")), ["a", "b"], spark.table("t"))', [2]),
    ("withcolumn-in-loop", 'def add(df, c):\n    return df.withColumn(c, F.lit(None))\ndf = spark.table("t")\n'
     'for c in ["a", "b"]:\n    df = add(df, c)', [2]),
    ("withcolumn-in-loop", 'df = spark.table("t")\n' + "".join(f'df = df.withColumn("c{i}", F.lit({i}))\n'
                                                               for i in range(25)), [26]),
    ("withcolumn-in-loop", 'df = spark.table("t")' + "".join(f'.withColumn("c{i}", F.lit({i}))' for i in range(24)),
     [1]),
    ("withcolumn-in-loop", 'df = spark.table("t")\nfor t in ["a", "b"]:\n'
     '    out = spark.table(t).withColumn("src", F.lit(t))\n    out.write.mode("append").parquet("p")', []),
    ("withcolumn-in-loop", 'df = spark.table("t")\n'
     'df = df.select("*", *[F.trim(c).alias(c + "_t") for c in df.columns])', []),
    ("withcolumn-in-loop", 'df = spark.table("t")\n' + "".join(f'df = df.withColumn("c{i}", F.lit({i}))\n'
                                                               for i in range(6)), []),
    # streaming-batch-work
    ("streaming-batch-work", 'def process(batch_df, batch_id):\n    if batch_df.count() > 0:\n'
     '        batch_df.write.mode("append").parquet("p")\nglueContext.forEachBatch(frame=s, batch_function=process,'
     ' options={})', [2]),
    ("streaming-batch-work", 'def write(df):\n    df.coalesce(1).write.mode("append").json("p")\n'
     'def process(batch_df, batch_id):\n    write(batch_df)\n'
     'q = stream.writeStream.foreachBatch(process).start()', [2]),
    ("streaming-batch-work", 'handler = lambda df, i: df.toPandas().to_csv("/tmp/x")\n'
     'stream.writeStream.foreachBatch(handler).start()', [1]),
    ("streaming-batch-work", 'def process(batch_df, batch_id):\n    if not batch_df.isEmpty():\n'
     '        batch_df.groupBy("k").count().write.mode("append").parquet("p")\n'
     'glueContext.forEachBatch(frame=s, batch_function=process, options={})', []),
    ("streaming-batch-work", 'rows = spark.table("dim").count()\ndef process(batch_df, batch_id):\n'
     '    batch_df.limit(5).collect()\nglueContext.forEachBatch(frame=s, batch_function=process, options={})', []),
    # job-init-without-commit / job-commit-without-init
    ("job-init-without-commit", 'args = getResolvedOptions(sys.argv, ["JOB_NAME"])\njob = Job(glueContext)\n'
     'job.init(args["JOB_NAME"], args)', [3]),
    ("job-init-without-commit", 'job = Job(glueContext)\njob.init("j", {})\njob.commit()', []),
    ("job-commit-without-init", "job = Job(glueContext)\njob.commit()", [2]),
    ("job-commit-without-init", "import psycopg2\nconn = psycopg2.connect(dsn)\nconn.commit()", []),
    ("job-commit-without-init", 'job = Job(glueContext)\njob.init("j", {})\njob.commit()', []),
    # hardcoded-credentials
    ("hardcoded-credentials", 'password = "hunter2"', [1]),
    ("hardcoded-credentials", 'DB_PASSWORD = "***REDACTED***"', [1]),
    ("hardcoded-credentials", 'opts = {"url": "jdbc:postgresql://h/db", "user": "etl", "password": "pw"}', [1]),
    ("hardcoded-credentials", 'df = spark.read.jdbc(url, "t", properties={"user": "u", "password": "p1"})', [1]),
    ("hardcoded-credentials", 'conn = connect(host="h", password="hunter2")', [1]),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect(host, "user", "pw")', [2]),
    ("hardcoded-credentials", 'import pymysql\nconn = pymysql.connect("db", "root", "toor", "sales")', [2]),
    ("hardcoded-credentials", 'import cx_Oracle\nconn = cx_Oracle.connect("scott", "tiger", "db:1521/x")', [2]),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect("host=h user=u password=pw")', [2]),
    ("hardcoded-credentials", 'from sqlalchemy import create_engine\ne = create_engine("postgresql://u:p@h/db")', [2]),
    ("hardcoded-credentials", 'import boto3\ns3 = boto3.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",\n'
     '    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")', [2, 3]),
    ("hardcoded-credentials", 'url = "jdbc:mysql://h:3306/db?user=etl&password=hunter2"', [1]),
    ("hardcoded-credentials", 'password = os.environ["DB_PASSWORD"]', []),
    ("hardcoded-credentials", 'password = ""', []),
    ("hardcoded-credentials", 'PASSWORD_ENV = "DB_PASSWORD"', []),
    ("hardcoded-credentials", 'secret_name = "prod/etl/db"', []),
    ("hardcoded-credentials", 'import psycopg2\nconn = psycopg2.connect(host=h, user=u, password=pw)', []),
    ("hardcoded-credentials", 'url = f"jdbc:mysql://{host}/db?user={user}&password={pw}"', []),
    ("hardcoded-credentials", 'print("password rotated")', []),
    # sql-from-strings: job arguments (taint) reaching SQL text, not every formatted string
    ("sql-from-strings", 'table = sys.argv[1]\nspark.sql(f"SELECT * FROM {table}")', [2]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["run_date"])\nd = args["run_date"].strip()\n'
     'spark.sql("SELECT * FROM t WHERE d = \'" + d + "\'")', [3]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["t"])\nspark.sql("SELECT * FROM {}".format(args["t"]))',
     [2]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["id"])\n'
     'spark.sql("SELECT * FROM t WHERE id = %s" % args.get("id"))', [2]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["day"])\ndef purge(day):\n'
     '    return f"DELETE FROM t WHERE d = \'{day}\'"\ncur.execute(purge(args["day"]))', [4]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["t"])\n'
     'athena.start_query_execution(QueryString=f"SELECT * FROM {args[\'t\']}", WorkGroup="w")', [2]),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["since"])\n'
     'opts = {"url": u, "preactions": f"DELETE FROM t WHERE d >= \'{args[\'since\']}\'"}', [2]),
    ("sql-from-strings", 'd = "2024-01-01"\nspark.sql("SELECT * FROM t WHERE d = \'" + d + "\'")', []),
    ("sql-from-strings", 'spark.sql(f"SELECT * FROM {name}")', []),
    ("sql-from-strings", 'args = getResolvedOptions(sys.argv, ["n"])\nn = int(args["n"])\n'
     'spark.sql(f"SELECT * FROM t LIMIT {n}")', []),
    ("sql-from-strings", 'for t in ["a", "b"]:\n    spark.sql(f"REFRESH TABLE {t}")', []),
    ("sql-from-strings", 'spark.sql("select 1")', []),
    ("sql-from-strings", 'spark.sql("SELECT * FROM t WHERE d = :d", args={"d": d})', []),
    ("sql-from-strings", 'cur.execute("SELECT * FROM t WHERE id = %s", (ident,))', []),
    ("sql-from-strings", 'Q = "SELECT a " + "FROM t"\nspark.sql(Q)', []),
    # secret-argument-logged
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\n'
     'print("pw is", args["db_password"])', [2]),
    ("secret-argument-logged", 'import logging\nargs = getResolvedOptions(sys.argv, ["api_token"])\n'
     'token = args["api_token"]\nlogging.info(f"using {token}")', [4]),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\nprint(args)', [2]),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "db_password"])\n'
     'logger = glueContext.get_logger()\nlogger.info("job " + args["JOB_NAME"])', []),
    ("secret-argument-logged", 'args = getResolvedOptions(sys.argv, ["JOB_NAME", "target"])\nprint(args)', []),
    # runtime-code-execution
    ("runtime-code-execution", 'import subprocess\nsubprocess.run(["pip", "install", "pandas"], check=True)', [2]),
    ("runtime-code-execution", 'import os\nos.system("pip install requests==2.31")', [2]),
    ("runtime-code-execution", "from subprocess import check_output\nout = check_output(['ls'])", [2]),
    ("runtime-code-execution", 'result = eval("1 + 1")', [1]),
    ("runtime-code-execution", 'exec(code)', [1]),
    ("runtime-code-execution", 'import pandas as pd\npdf = pd.DataFrame({"a": [1]})\npdf.eval("a + 1")', []),
    ("runtime-code-execution", 'import os\npath = os.path.join("a", "b")', []),
    # bare-except
    ("bare-except", "try:\n    x = 1\nexcept:\n    pass", [3]),
    ("bare-except", "try:\n    x = 1\nexcept ValueError:\n    raise", []),
    # python-udf
    ("python-udf", 'lower_udf = F.udf(lambda s: s.lower())', [1]),
    ("python-udf", 'from pyspark.sql.functions import udf\n@udf("string")\ndef clean(s):\n    return s.strip()', [2]),
    ("python-udf", 'from pyspark.sql.functions import udf\n@udf\ndef clean(s):\n    return s.strip()', [3]),
    ("python-udf", 'spark.udf.register("up", lambda s: s.upper())', [1]),
    ("python-udf", 'df = spark.table("t").withColumn("l", F.lower("name"))', []),
    ("python-udf", 'from pyspark.sql.functions import pandas_udf\n@pandas_udf("double")\ndef f(s):\n    return s', []),
    # cache-not-released
    ("cache-not-released", 'df = spark.table("t").cache()\nprint(df.count())', [1]),
    ("cache-not-released", 'df = spark.table("t")\ndf.persist()\nprint(df.count())', [2]),
    ("cache-not-released", 'df = spark.table("t").cache()\nprint(df.count())\ndf.unpersist()', []),
    ("cache-not-released", "import functools\n@functools.cache\ndef f():\n    return 1", []),
    # write-errorifexists
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o")', [1]),
    ("write-errorifexists", 'spark.table("t").write.format("delta").save("s3://b/o")', [1]),
    ("write-errorifexists", 'spark.table("t").write.partitionBy("d").saveAsTable("db.t")', [1]),
    ("write-errorifexists", 'spark.table("t").write.insertInto("db.t")', [1]),
    ("write-errorifexists", 'w = spark.table("t").write.format("csv")\nw.save("p")', [2]),
    ("write-errorifexists", 'spark.table("t").write.mode("overwrite").parquet("s3://b/o")', []),
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o", mode="append")', []),
    ("write-errorifexists", 'spark.table("t").write.parquet("s3://b/o", "overwrite")', []),
    ("write-errorifexists", 'w = spark.table("t").write.mode("append")\nw.saveAsTable("db.t")', []),
    ("write-errorifexists", 'spark.table("t").writeStream.format("console").start()', []),
    ("write-errorifexists", 'with open("f", "w") as fh:\n    fh.write("x")', []),
]


@pytest.mark.parametrize(("rule_id", "snippet", "expected_lines"), CASES)
def test_rule(rule_id, snippet, expected_lines):
    assert lines_of(snippet, rule_id) == expected_lines


BOOKMARKS_ON = JobContext(job_type="glueetl", bookmark_option="job-bookmark-enable")
BOOKMARKS_OFF = JobContext(job_type="glueetl", bookmark_option="job-bookmark-disable")
UNKNOWN = JobContext()
INIT = 'args = getResolvedOptions(sys.argv, ["JOB_NAME"])\njob = Job(glueContext)\njob.init(args["JOB_NAME"], args)\n'

CONTEXT_CASES = [
    # bookmark-source-without-ctx: a DynamicFrame read the bookmark cannot track
    ("bookmark-source-without-ctx", UNKNOWN, INIT + 'dyf = glueContext.create_dynamic_frame.from_catalog(\n'
     '    database="d", table_name="t")\ndyf.toDF().write.mode("append").parquet("p")\njob.commit()', [4]),
    ("bookmark-source-without-ctx", BOOKMARKS_ON, INIT + 'def read(table, ctx=""):\n'
     '    return glueContext.create_dynamic_frame.from_catalog(database="d", table_name=table,\n'
     '                                                         transformation_ctx=ctx)\n'
     'dyf = read("orders")\njob.commit()', [5]),
    ("bookmark-source-without-ctx", BOOKMARKS_ON, INIT + 'dyf = glueContext.create_dynamic_frame_from_options(\n'
     '    "s3", {"paths": ["s3://b/in/"]}, "json")\njob.commit()', [4]),
    ("bookmark-source-without-ctx", BOOKMARKS_ON, INIT + 'dyf = glueContext.create_dynamic_frame.from_catalog(\n'
     '    database="d", table_name="t", transformation_ctx="src")\njob.commit()', []),
    ("bookmark-source-without-ctx", BOOKMARKS_ON, INIT + 'dyf = glueContext.create_dynamic_frame.from_options(\n'
     '    connection_type="dynamodb", connection_options={"dynamodb.input.tableName": "t"})\njob.commit()', []),
    ("bookmark-source-without-ctx", BOOKMARKS_OFF, INIT + 'dyf = glueContext.create_dynamic_frame.from_catalog(\n'
     '    database="d", table_name="t")\njob.commit()', []),
    ("bookmark-source-without-ctx", UNKNOWN, 'dyf = glueContext.create_dynamic_frame.from_catalog(\n'
     '    database="d", table_name="t")\ndyf.toDF().show()', []),
    # bookmark-spark-native-read: Spark's readers in a job with bookmarks enabled
    ("bookmark-spark-native-read", BOOKMARKS_ON, INIT + 'df = spark.read.parquet("s3://b/in/")\njob.commit()', [4]),
    ("bookmark-spark-native-read", BOOKMARKS_ON, INIT + 'reader = spark.read.format("csv").option("header", "true")\n'
     'df = reader.load("s3://b/in/")\norders = spark.table("sales.orders")\njob.commit()', [5, 6]),
    ("bookmark-spark-native-read", UNKNOWN, INIT + 'df = spark.read.parquet("s3://b/in/")\njob.commit()', []),
    ("bookmark-spark-native-read", BOOKMARKS_OFF, INIT + 'df = spark.read.parquet("s3://b/in/")\njob.commit()', []),
    ("bookmark-spark-native-read", BOOKMARKS_ON, INIT + 'spark.table("t").write.mode("overwrite").parquet("p")\n'
     'job.commit()', [4]),
    # bookmark-without-job-init
    ("bookmark-without-job-init", BOOKMARKS_ON, 'dyf = glueContext.create_dynamic_frame.from_catalog(database="d",\n'
     '    table_name="t", transformation_ctx="s")', [-1]),  # the GlueContext line of the preamble
    ("bookmark-without-job-init", BOOKMARKS_OFF, 'dyf = glueContext.create_dynamic_frame.from_catalog(database="d",\n'
     '    table_name="t", transformation_ctx="s")', []),
    ("bookmark-without-job-init", UNKNOWN, 'dyf = glueContext.create_dynamic_frame.from_catalog(database="d",\n'
     '    table_name="t", transformation_ctx="s")', []),
    ("bookmark-without-job-init", BOOKMARKS_ON, INIT + 'dyf = glueContext.create_dynamic_frame.from_catalog(\n'
     '    database="d", table_name="t", transformation_ctx="s")\njob.commit()', []),
    # spark-job-without-spark-work
    ("spark-job-without-spark-work", UNKNOWN, 'import boto3\nglue = boto3.client("glue")\n'
     'glue.start_crawler(Name="c")', [-1]),
    ("spark-job-without-spark-work", JobContext(job_type="glueetl"), 'jvm = spark.sparkContext._jvm\n'
     'conn = jvm.java.sql.DriverManager.getConnection("jdbc:postgresql://h/db", "u", pw)\n'
     'conn.createStatement().execute("CALL refresh_marts()")', [-1]),
    ("spark-job-without-spark-work", JobContext(job_type="pythonshell"), 'import boto3\nboto3.client("s3")', []),
    ("spark-job-without-spark-work", UNKNOWN, 'df = spark.read.json("s3://b/in/")\n'
     'df.write.mode("overwrite").parquet("s3://b/out/")', []),
    ("spark-job-without-spark-work", UNKNOWN, 'import boto3\nbody = boto3.client("s3").get_object(Bucket="b", '
     'Key="k")["Body"].read()\nspark.createDataFrame([(body,)]).write.mode("append").text("p")', []),
    ("spark-job-without-spark-work", UNKNOWN, 'from etl_lib.pipeline import run\nrun(glueContext, sys.argv)', []),
    ("spark-job-without-spark-work", UNKNOWN, 'from delta.tables import DeltaTable\n'
     'DeltaTable.forPath(spark, "s3://b/t").vacuum(168)', []),
    ("spark-job-without-spark-work", UNKNOWN, 'print(glueContext)\nlogger = glueContext.get_logger()', [-1]),
]


@pytest.mark.parametrize(("rule_id", "context", "snippet", "expected_lines"), CONTEXT_CASES)
def test_rule_with_job_context(rule_id, context, snippet, expected_lines):
    offset = GLUE_PREAMBLE.count("\n")
    findings = run_code_rules(GLUE_PREAMBLE + snippet, context)
    assert [f["line"] - offset for f in findings if f["rule_id"] == rule_id] == expected_lines


@pytest.mark.parametrize(("snippet", "rule_id", "usual"), [
    ("job = Job(glueContext)\njob.commit()", "job-commit-without-init", "high"),
    ('job = Job(glueContext)\njob.init("j", {})', "job-init-without-commit", "medium"),
])
def test_init_and_commit_matter_less_while_the_job_has_bookmarks_off(snippet, rule_id, usual):
    def severity(context):
        return [(f["severity"], "Bookmarks are disabled" in f["message"])
                for f in run_code_rules(GLUE_PREAMBLE + snippet, context) if f["rule_id"] == rule_id]

    assert severity(BOOKMARKS_OFF) == [("low", True)]
    assert severity(BOOKMARKS_ON) == severity(UNKNOWN) == [(usual, False)]


def test_every_rule_has_a_positive_case():
    positive = {rule for rule, _, lines in CASES if lines} | {rule for rule, _, _, lines in CONTEXT_CASES if lines}
    assert positive >= set(RULE_IDS) - {"python2-syntax", "syntax-error", "too-deeply-nested", "rule-error"}


def test_finding_schema():
    findings = rules_for('password = "x"\ntry:\n    pass\nexcept:\n    pass\n')
    assert findings
    for item in findings:
        # `lines` and a rule's own figures (`python_shell_dpu`) are the only extras a finding may carry.
        assert {"rule_id", "severity", "line", "message", "source"} <= set(item)
        assert set(item) - {"rule_id", "severity", "line", "message", "source"} <= {"lines", "python_shell_dpu"}
        assert item["severity"] in SEVERITIES
        assert item["source"] == "ast"
        assert isinstance(item["line"], int)


def test_findings_never_quote_the_secret_value():
    findings = [f for f in rules_for('db_password = "hunter2"\nconn = connect(host="h", password="toor42")')
                if f["rule_id"] == "hardcoded-credentials"]
    assert len(findings) == 2
    assert not any("hunter2" in f["message"] or "toor42" in f["message"] for f in findings)


PYTHON2 = """\
import sys
def main(argv):
    print "starting", argv
    try:
        run()
    except ValueError, e:
        print >>sys.stderr, e
"""


def test_python2_script_is_a_finding_with_the_error_line():
    findings = run_code_rules(PYTHON2)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("python2-syntax", 3)]
    assert "print statement on line 3" in findings[0]["message"]


@pytest.mark.parametrize(
    ("source", "line"),
    [("x = (1,\ny = 2\n", 1), ("def f(:\n    pass\n", 1), ("a = 1\nif a\n    b = 2\n", 2), ("\tx = 1\n", 1)],
)
def test_syntax_errors_are_findings(source, line):
    findings = run_code_rules(source)
    assert [(f["rule_id"], f["line"]) for f in findings] == [("syntax-error", line)]


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 500 + "1" + ")" * 500,
        "x = " + "[" * 300 + "]" * 300,
        "x = " + "1 + " * 50_000 + "1",
        "x = " + "-" * 100_000 + "1",
        "x = a" + ".b" * 100_000,
        "f(" * 150 + ")" * 150,
        "def f():\n" + "".join("    " * i + "if x:\n" for i in range(1, 99)) + "    " * 99 + "pass\n",
    ],
)
def test_deep_nesting_is_a_finding_not_a_crash(source):
    start = time.monotonic()
    findings = run_code_rules(source)
    assert time.monotonic() - start < 10
    assert {f["rule_id"] for f in findings} <= {"too-deeply-nested", "syntax-error"}
    assert findings


def test_hundred_thousand_lines_in_bounded_time():
    source = "".join(f"value_{i} = compute({i}, 'name_{i}')\n" for i in range(100_000))
    source += "rows = spark.table('t').collect()\n"
    start = time.monotonic()
    findings = run_code_rules(source)
    assert time.monotonic() - start < 60
    assert [(f["rule_id"], f["line"]) for f in findings] == [("collect-on-large-data", 100_001)]


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("clean_*.py")), ids=lambda p: p.stem)
def test_clean_glue_scripts_have_no_findings(path):
    assert run_code_rules(path.read_text()) == []
