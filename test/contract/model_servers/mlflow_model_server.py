"""Stand-in for KServe's `kserve-mlserver` runtime, which serves format `mlflow` with Seldon's MLServer
1.5.0 and mlserver-mlflow: neither is KServe code, and MLServer 1.5 does not install beside this
KServe release. This server is built on KServe's own ModelServer (the pinned release) and does what
that runtime does with an MLflow model: load the directory the storage initializer downloaded with
mlflow.pyfunc (the MLmodel file names the flavor) and answer the Open Inference Protocol (v2).

Usage: python mlflow_model_server.py --model_name=NAME --model_dir=DIR --http_port=P --grpc_port=G
"""
import argparse

import numpy
from kserve import Model, ModelServer, model_server
from kserve.utils.utils import get_predict_input, get_predict_response


class MlflowModel(Model):
    def __init__(self, name, model_dir):
        super().__init__(name)
        self.model_dir = model_dir

    def load(self):
        import mlflow.pyfunc
        self._model = mlflow.pyfunc.load_model(self.model_dir)
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None):
        result = self._model.predict(get_predict_input(payload))
        return get_predict_response(payload, numpy.asarray(result), self.name)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(parents=[model_server.parser])
    parser.add_argument('--model_dir', required=True)
    args, _ = parser.parse_known_args()
    model = MlflowModel(args.model_name, args.model_dir)
    model.load()
    ModelServer().start([model])
