"""NAS search spaces: MONAS macro, DenseNet/CondenseNet blocks, DPP-Net cells, NAS-Bench-201 cells."""
