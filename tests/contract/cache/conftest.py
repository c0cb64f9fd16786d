"""Real servers for the cache contract: one moto and one GCS emulator per session."""

from tests.servers import gcs_session, moto_session

__all__ = ["gcs_session", "moto_session"]
