"""deepctl import: a Kubespray inventory -> a deepctl spec."""
