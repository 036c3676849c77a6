"""Test bed for freshdock.core: private dockerd engines, OCI registries and a token server on 127.0.0.1."""
