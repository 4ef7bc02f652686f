/**
 * Python module the materialization job loads first (as `sitecustomize`, from PYTHONPATH) so
 * that Feast's file offline store can read parquet from `s3://`.
 *
 * Why: that store reads sources with Dask, which opens `s3://` through fsspec, which needs the
 * `s3fs` package; Feast's feature-server image installs `feast[minimal]`, whose dependency set has
 * no `s3fs` (materializing fails with "Install s3fs to access S3"). The image does have pyarrow's
 * own S3 filesystem and boto3, so this registers pyarrow's filesystem as fsspec's `s3`, with
 * boto3's credentials (EKS Pod Identity included) and `FEAST_S3_ENDPOINT_URL`, the variable Feast
 * reads for its S3 registry, for S3-compatible stores. Nothing happens where s3fs is installed.
 */
export const S3_BRIDGE_MODULE = `"""cdk-mlops-stack: pyarrow's S3 filesystem as fsspec's s3:// when s3fs is not installed."""
import importlib.util
import os

if importlib.util.find_spec("s3fs") is None:
    import fsspec
    from fsspec.implementations.arrow import ArrowFSWrapper

    def _arrow_s3():
        import boto3
        import pyarrow.fs

        session = boto3.Session()
        options = {}
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            options.update(access_key=frozen.access_key, secret_key=frozen.secret_key, session_token=frozen.token)
        if session.region_name:
            options["region"] = session.region_name
        endpoint = os.environ.get("FEAST_S3_ENDPOINT_URL")
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            options.update(scheme=scheme, endpoint_override=host)
        return pyarrow.fs.S3FileSystem(**options)

    class ArrowS3FileSystem(ArrowFSWrapper):
        protocol = ("s3", "s3a")

        def __init__(self, **kwargs):
            super().__init__(_arrow_s3())

        @classmethod
        def _strip_protocol(cls, path):
            if isinstance(path, str):
                for prefix in ("s3://", "s3a://"):
                    if path.startswith(prefix):
                        return path[len(prefix):]
            return path

    fsspec.register_implementation("s3", ArrowS3FileSystem, clobber=True)
    fsspec.register_implementation("s3a", ArrowS3FileSystem, clobber=True)
`;
