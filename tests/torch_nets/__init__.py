"""Plain-PyTorch reference networks and ONNX fixture export (ground truth for convcost's tests).

Nothing here is imported by convcost itself; it needs torch (and onnx/onnxscript for export).
"""
