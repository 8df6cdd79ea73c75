# The code server image: `make image` builds it, glue_inventory_tests/test_image.py builds and runs it (docs/DEPLOYMENT.md).
# Any base with Python 3.11 (python3.11 on PATH, the venv module, CA certificates) fits: the test builds one from
# Debian packages (mmdebstrap) because Docker Hub is not reachable from CI.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
# uv takes the base's Python and never downloads one; the venv is copied whole into the runtime stage.
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/opt/venv UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN python3.11 -m venv /opt/uv && /opt/uv/bin/pip install --no-cache-dir --quiet "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock README.md .python-version ./
# The dependencies first (a layer that survives code changes), then the package itself, not editable.
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project --no-cache
COPY glue_inventory ./glue_inventory
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-editable --no-cache

FROM ${BASE_IMAGE}
COPY --from=build /opt/venv /opt/venv
RUN mkdir -p /home/glue/dagster_home && chown -R 10001:10001 /home/glue
# pylint and bandit are dependencies of the package: the deep analysis runs them from this venv.
ENV PATH=/opt/venv/bin:$PATH HOME=/home/glue DAGSTER_HOME=/home/glue/dagster_home PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/glue
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-h", "127.0.0.1", "-p", "4000"]
ENTRYPOINT ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "glue_inventory.definitions"]
