"""The bookkeeping of a background work split in chunks (a billing run, a
bank import): one definition, inherited by ``security.billing.run`` and
``security.bank.import``."""

import threading

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.tools import SQL


class SecurityJobChunkedMixin(models.AbstractModel):
    """A work whose chunks (``security.job.chunk.mixin``, its ``chunk_ids``)
    are done by queue_job jobs running in parallel.

    Each job commits its chunk, then adds up the chunks into the work
    (``_update_progress``) in a short transaction of its own under a row lock
    on the work; the job that finds every chunk done closes the work
    (``_close``). A model inheriting it defines ``chunk_ids``, a ``state``
    with a ``done`` value, and extends ``_chunk_sums`` with its figures.
    """

    _name = "security.job.chunked.mixin"
    _description = "Background Work in Chunks"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_finished = fields.Datetime(string="Finished", readonly=True)
    chunk_count = fields.Integer(string="Chunks", readonly=True)
    chunk_done_count = fields.Integer(string="Chunks Done", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)

    # ------------------------------------------------------------ transactions
    @api.model
    def _in_test_mode(self):
        return bool(
            odoo_module.current_test
            or self.env.registry.in_test_mode()
            or getattr(threading.current_thread(), "testing", False)
        )

    def _can_commit(self):
        """Whether the jobs may commit their own transactions: not in tests
        (savepoints there) nor inside a larger transaction (context
        ``security_billing_no_commit``, e.g. demo data loaded by the module
        installation)."""
        return not (
            self._in_test_mode() or self.env.context.get("security_billing_no_commit")
        )

    def _commit(self):
        """Commit the work done so far when the jobs may commit."""
        if self._can_commit():
            # A chunk is committed before the work counts it (see
            # _update_progress).
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _in_own_transaction(self, method, *args):
        """Call ``method`` of this work in a short READ COMMITTED transaction
        of its own.

        Jobs run in parallel in REPEATABLE READ transactions, which neither
        see the rows the other jobs commit meanwhile nor may update a row
        another one committed meanwhile: under a row lock on the work
        (``_lock_state``), the jobs count one after the other and each sees
        the work committed before it. In tests (no commits), in the current
        transaction.
        """
        self.ensure_one()
        if not self._can_commit():
            getattr(self, method)(*args)
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            record = self.with_env(self.env(cr=cr))
            getattr(record, method)(
                *[
                    arg.with_env(record.env)
                    if isinstance(arg, models.BaseModel)
                    else arg
                    for arg in args
                ]
            )
        self.invalidate_recordset()

    def _lock_state(self):
        """Row-lock the work and return its state as committed.

        :rtype: str
        """
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT state FROM %s WHERE id = %s FOR UPDATE",
                SQL.identifier(self._table),
                self.id,
            )
        )
        return self.env.cr.fetchone()[0]

    # ---------------------------------------------------------------- progress
    def _update_progress(self):
        """Add up the chunks in a transaction of its own (see
        ``_in_own_transaction``); the job that finishes last closes the work."""
        self.ensure_one()
        self._in_own_transaction("_add_up_chunks")

    def _chunk_sums(self):
        """The work's figures added up from its chunks (extended by each
        model).

        :return: field of the work -> SQL aggregate over its chunks' rows
        :rtype: dict
        """
        return {"chunk_done_count": SQL("count(*) FILTER (WHERE state = 'done')")}

    def _add_up_chunks(self):
        """Write the chunks' figures on the work, under a row lock on it;
        close it when every chunk is done."""
        self.ensure_one()
        state = self._lock_state()
        chunks_field = self._fields["chunk_ids"]
        chunks = self.env[chunks_field.comodel_name]
        chunks.flush_model()
        sums = self._chunk_sums()
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE %s = %s",
                SQL(", ").join(sums.values()),
                SQL.identifier(chunks._table),
                SQL.identifier(chunks_field.inverse_name),
                self.id,
            )
        )
        vals = dict(zip(sums, self.env.cr.fetchone(), strict=True))
        self.invalidate_recordset()
        closing = self._is_closing(state, vals)
        if closing:
            vals.update(state="done", date_finished=fields.Datetime.now())
        else:
            vals.update(self._progress_state_vals(state, vals))
        self.sudo().write(vals)
        if closing:
            self._close()

    def _is_closing(self, state, vals):
        """Whether the chunks added up in ``vals`` close the work in ``state``:
        every chunk is done and the work is not done yet."""
        return state != "done" and vals["chunk_done_count"] >= self.chunk_count

    def _progress_state_vals(self, state, vals):
        """Values of the work still going, after adding up its chunks
        (``vals``; its state as committed: ``state``). None by default."""
        return {}

    def _close(self):
        """The work is done: keep its summary, tell who started it
        (implemented by each model)."""
        raise NotImplementedError()

    # -------------------------------------------------------------------- jobs
    def _chunk_jobs(self, states, chunks=None, limit=None):
        """The queue jobs of the work's chunks (or of ``chunks``) in
        ``states``.

        :param tuple states: ``queue.job`` states
        :param chunks: some chunks of the work (default: all)
        :param int limit: how many jobs at most
        :rtype: queue.job
        """
        self.ensure_one()
        uuids = (self.chunk_ids if chunks is None else chunks)._job_uuids()
        jobs = self.env["queue.job"].sudo()
        if not uuids:
            return jobs
        return jobs.search(
            [("uuid", "in", uuids), ("state", "in", list(states))], limit=limit
        )
