/**
 * The model formats the stack serves, each bound to the one ClusterServingRuntime of KServe
 * v0.20.0's runtime chart that serves it and the protocols that runtime speaks
 * (`supportedModelFormats` and `protocolVersions` of charts/kserve-runtime-configs). InferenceServices
 * name their runtime explicitly: with auto-selection, sklearn, xgboost and lightgbm models could land
 * on either their own server or MLServer, whichever KServe ranks first.
 */

/** What a model is, as its serving runtime loads it. */
export enum ModelFormat {
  /** scikit-learn, pickled/joblib (`kserve-sklearnserver`, v1 and v2). */
  SKLEARN = 'sklearn',
  /** XGBoost booster (`kserve-xgbserver`, v1 and v2). */
  XGBOOST = 'xgboost',
  /** LightGBM booster (`kserve-lgbserver`, v1 and v2). */
  LIGHTGBM = 'lightgbm',
  /** An MLflow model directory with its `MLmodel` file (`kserve-mlserver`, v2 only). */
  MLFLOW = 'mlflow',
  /** ONNX (`kserve-tritonserver`, v2 only). */
  ONNX = 'onnx',
  /** A Hugging Face model (`kserve-huggingfaceserver`, v1 and v2). */
  HUGGINGFACE = 'huggingface',
  /** TensorFlow SavedModel (`kserve-tensorflow-serving`, v1 only). */
  TENSORFLOW = 'tensorflow',
  /** TorchServe model archive (`kserve-torchserve`, v1 and v2). */
  PYTORCH = 'pytorch',
}

/** The inference protocol of a model's endpoints. */
export enum InferenceProtocol {
  /** `/v1/models/<name>:predict` with `{"instances": [...]}`. */
  V1 = 'v1',
  /** Open Inference Protocol: `/v2/models/<name>/infer` with typed `inputs`. */
  V2 = 'v2',
}

/** A serving runtime of the runtime chart that the stack enables. */
export interface ServingRuntimeInfo {
  /** ClusterServingRuntime name. */
  readonly name: string;
  /** Key of the runtime under `kserve.servingruntime` in the chart's values. */
  readonly valuesKey: string;
  /** Protocols it serves; the first is the default. */
  readonly protocols: InferenceProtocol[];
}

const V1_V2 = [InferenceProtocol.V1, InferenceProtocol.V2];

/** The runtime of each format. */
export const RUNTIME_OF_FORMAT: Record<ModelFormat, ServingRuntimeInfo> = {
  [ModelFormat.SKLEARN]: { name: 'kserve-sklearnserver', valuesKey: 'sklearnserver', protocols: V1_V2 },
  [ModelFormat.XGBOOST]: { name: 'kserve-xgbserver', valuesKey: 'xgbserver', protocols: V1_V2 },
  [ModelFormat.LIGHTGBM]: { name: 'kserve-lgbserver', valuesKey: 'lgbserver', protocols: V1_V2 },
  [ModelFormat.MLFLOW]: { name: 'kserve-mlserver', valuesKey: 'mlserver', protocols: [InferenceProtocol.V2] },
  [ModelFormat.ONNX]: { name: 'kserve-tritonserver', valuesKey: 'tritonserver', protocols: [InferenceProtocol.V2] },
  [ModelFormat.HUGGINGFACE]: { name: 'kserve-huggingfaceserver', valuesKey: 'huggingfaceserver', protocols: V1_V2 },
  [ModelFormat.TENSORFLOW]: { name: 'kserve-tensorflow-serving', valuesKey: 'tensorflow', protocols: [InferenceProtocol.V1] },
  [ModelFormat.PYTORCH]: { name: 'kserve-torchserve', valuesKey: 'torchserve', protocols: V1_V2 },
};

/**
 * Runtimes of the chart the stack does not enable (they stay installed but `disabled`, so KServe
 * never selects them): AutoGluon, PMML, Paddle, the "predictive" server and vLLM, whose chart pins
 * its image to `latest`. The multi-node Hugging Face runtime shares the single-node one's
 * `disabled` flag in the chart, so it stays enabled; InferenceServices of the library name their
 * runtime, so it is chosen only by name.
 */
export const DISABLED_RUNTIMES = ['autogluonserver', 'pmmlserver', 'paddleserver', 'predictiveserver', 'vllmserver'];

/** Runtimes whose values take a security context but have no `disabled` flag of their own. */
export const UNSWITCHABLE_RUNTIMES = ['huggingfaceserver_multinode'];
