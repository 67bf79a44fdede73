"""The pinned Kubespray: release facts, where its tree is (source, git), its own inventory
validation, its downloads."""
