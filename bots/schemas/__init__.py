"""The admin and public APIs' response shapes, as pydantic models shared by the server (which
declares them, so /openapi.json carries them) and its clients (the CLI and the builder parse
into them). Pure: pydantic and the standard library only, so any client may import it without
pulling in FastAPI or SQL. Timestamps are ISO 8601 strings, exactly as the server writes them.
"""
