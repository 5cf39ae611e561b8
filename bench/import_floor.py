"""What every function imports before any code of ours: the floor under bench/cold_imports.py's figures.

boto3; pydantic with one model, its validator deferred as the layer's are (`from pydantic import BaseModel`
and the first model class load most of pydantic); Powertools' Logger, and its Tracer tracing boto3's calls as
enrichment.tracing does. The bench imports this module alone in a fresh Lambda-like process.
"""

import boto3  # noqa: F401 - imported for its cost
from aws_lambda_powertools import Logger, Tracer
from pydantic import BaseModel, ConfigDict, Field


class Floor(BaseModel):
    model_config = ConfigDict(defer_build=True)

    name: str = Field(default="floor")


logger = Logger()
tracer = Tracer(patch_modules=("botocore",))
