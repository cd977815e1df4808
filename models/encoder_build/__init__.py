"""The parts of the default encoder build: contract constants, the ONNX graph helper, the torch
legacy reader, the MobileNetV2 video branch, the mobgap calibration data and the MiniRocket IMU
branch. Entry points: models/build_encoder.py and models/verify_encoder.py."""
