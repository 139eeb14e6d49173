"""Models: the base-model catalogue plus every fine-tuned model and checkpoint not deleted."""

from __future__ import annotations

from ..errors import NotFound, PermissionDenied
from .clock import Clock
from .db import JSON


class Models(Clock):
    """The Models API: list, retrieve, delete (fine-tuned models only)."""

    def resolve_base(self, model: str) -> str | None:
        """The dated base model for a base id or alias, or None when it is not a base model."""
        if model in self.flavor.base_models:
            return model
        return self.flavor.aliases.get(model)

    def _fine_tuned_models(self) -> list[JSON]:
        if not self.flavor.has_fine_tuned_models:
            return []  # the host serves checkpoints through its own deployment API
        with self._read() as db:
            jobs = db.execute(
                "SELECT fine_tuned_model AS id, finished_at AS created FROM jobs "
                "WHERE fine_tuned_model IS NOT NULL ORDER BY seq"
            ).fetchall()
            ckpts = db.execute(
                "SELECT model AS id, created_at AS created FROM checkpoints ORDER BY seq"
            ).fetchall()
            deleted = {r["id"] for r in db.execute("SELECT id FROM deleted_models")}
        return [
            {
                "id": r["id"],
                "object": "model",
                "created": r["created"],
                "owned_by": self.organization_id,
            }
            for r in [*jobs, *ckpts]
            if r["id"] not in deleted
        ]

    def list_models(self) -> list[JSON]:
        base = [
            {"id": model, "object": "model", "created": created, "owned_by": "system"}
            for model, created in self.flavor.base_models.items()
        ]
        return base + self._fine_tuned_models()

    def retrieve_model(self, model: str) -> JSON:
        for item in self.list_models():
            if item["id"] == model:
                return item
        raise NotFound(f"The model '{model}' does not exist", param="model", code="model_not_found")

    def delete_model(self, model: str) -> JSON:
        if self.resolve_base(model) is not None:
            raise PermissionDenied(
                f"You do not have permission to delete {model}: only fine-tuned models can be "
                "deleted.",
                param="model",
                code="model_not_deletable",
            )
        self.retrieve_model(model)
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO deleted_models(id, deleted_at) VALUES (?, ?)",
                (model, int(self.now())),
            )
        return {"id": model, "object": "model", "deleted": True}
