"""Reading and describing inputs: spec files, ONNX models, and the JSON Schemas."""
