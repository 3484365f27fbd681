"""The bookkeeping of a chunk of a background work (a billing run, a bank
import): one definition, inherited by ``security.billing.run.chunk`` and
``security.bank.import.chunk``."""

import logging

from odoo import fields, models

from ..tools.jobs import is_transient_error

_logger = logging.getLogger(__name__)


class SecurityJobChunkMixin(models.AbstractModel):
    """A slice of a work split in chunks (``security.job.chunked.mixin``),
    done by queue_job jobs.

    A model inheriting it sets ``_chunk_work_field`` (its Many2one to the
    work) and ``_chunk_job_uuid_fields`` (the fields keeping the uuids of its
    jobs), defines ``state`` (from ``pending`` to ``done``) and implements
    ``_record_failure``. A step of a job runs through ``_run_step``: in a
    savepoint, then committed and counted in the work.

    ``state`` is each model's own: the bank chunk has one more value, and a
    selection extended across addons would put the labels of its values in
    the core's translations.
    """

    _name = "security.job.chunk.mixin"
    _description = "Background Work Chunk"

    # the Many2one to the work the chunk belongs to (set by each model)
    _chunk_work_field = None
    # the Char fields keeping the uuids of the chunk's jobs (set by each model)
    _chunk_job_uuid_fields = ()
    # whether a failure recorded by _record_failure still fails the job
    _chunk_failure_fails_job = False

    sequence = fields.Integer(readonly=True)
    date_done = fields.Datetime(string="Finished", readonly=True)

    def _work(self):
        """The work (billing run, bank import) of the chunk."""
        return self[self._chunk_work_field]

    def _job_uuids(self):
        """The uuids of the jobs enqueued for these chunks.

        :rtype: list
        """
        return [
            uuid
            for chunk in self.sudo()
            for name in self._chunk_job_uuid_fields
            if (uuid := chunk[name])
        ]

    def _is_transient(self, exc):
        """Whether the failure ``exc`` of a step may pass when queue_job runs
        the job again (then it is raised, not recorded)."""
        return is_transient_error(exc)

    def _run_step(self, step, *args):
        """Run ``step(*args)`` of the chunk in a savepoint, commit, then count
        the chunk in its work (``_update_progress``).

        A transient failure is raised: queue_job runs the job again. Any other
        failure leaves nothing of the step; it is recorded
        (``_record_failure``), then raised again when the job must fail
        (``_chunk_failure_fails_job``), else the chunk is counted as recorded.
        """
        self.ensure_one()
        work = self._work()
        try:
            with self.env.cr.savepoint():
                step(*args)
        except Exception as exc:
            if self._is_transient(exc):
                raise
            _logger.exception(
                "%s %s: chunk %s failed", work._description, work.id, self.sequence
            )
            self.env.invalidate_all()
            self._record_failure(exc)
            if self._chunk_failure_fails_job:
                raise
        # the chunk's work is durable before the work counts it (a new
        # transaction, see _update_progress)
        work._commit()
        work._update_progress()

    def _record_failure(self, exc):
        """Keep the failure ``exc`` of a step of the chunk (implemented by
        each model: what a failure means differs)."""
        raise NotImplementedError()
