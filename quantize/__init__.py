"""quantize: make GGUF and ONNX models small (`python -m quantize`), and measure what that cost."""
