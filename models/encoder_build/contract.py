"""The shapes and constants of the encoder contract (shared/DESIGN.md "Encoder contract")."""

FRAMES, HEIGHT, WIDTH = 8, 112, 112
IMU_LEN, IMU_RATE_HZ = 128, 25
WINDOW_SECONDS = "5.12"  # IMU_LEN / IMU_RATE_HZ, written as text so it never reads 5.1199999
VIDEO_MEAN, VIDEO_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
VIDEO_DIM = 1280
L2_EPS = 1e-12  # keeps an all-zero modality vector finite under L2 normalization
# The per-frame stage (contract key mmcl.frame_stage.*): the tensor holding every frame of the
# batch, [N*T, 3, H, W] window-major, and the per-frame features [N*T, VIDEO_DIM] the rest of the
# graph reads the video through. A runtime that cuts the graph there encodes each frame once.
FRAME_INPUT, FRAME_FEATURES = "video/frames", "video/frame_features"
