"""A handle on the S3-compatible server (moto's server mode) the storage tests start on loopback."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class S3Server:
    endpoint: str
    conn_id: str
    env: dict[str, str]
    client: Any

    def bucket(self, prefix: str = "bucket") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        self.client.create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"

    def get(self, bucket: str, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def keys(self, bucket: str) -> list[str]:
        return sorted(o["Key"] for o in self.client.list_objects_v2(Bucket=bucket).get("Contents", []))
