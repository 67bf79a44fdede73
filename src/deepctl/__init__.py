"""deepctl: one typed cluster spec in, a Kubernetes GPU platform out (Kubespray underneath)."""

__version__ = "0.1.0"

KUBESPRAY_TAG = "v2.31.0"
KUBESPRAY_COMMIT = "1c9add48975060f45396b34d8e022c30d7f80dab"
