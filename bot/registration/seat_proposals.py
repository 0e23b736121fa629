"""Booking centralized-exam seats through a proposal the server keeps.

/seats_book N writes a pending ``SeatProposal`` (the unit, N seats, the administrator who
asked, an expiry) and offers the slots with seats left; choosing one stores the plan (the slot,
and the following ones when it cannot hold N: the notice's "分批安排"); "确认预约" books exactly
that plan, once. Every button carries only the proposal's id, so a press books nothing the
server did not propose to the presser, and a repeated press finds the proposal already claimed.

A slot that filled between the plan and its confirmation is not swapped for another one behind
the unit's back: the proposal goes stale and the unit is asked again, with a fresh proposal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import col

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.registration import admission
from bot.registration.models import SeatProposal
from bot.registration.seats import (
    SlotView,
    centralized_unit,
    parse_seats,
    place,
    require_seats,
    require_window,
    slots,
    split,
)

PENDING, BOOKED, CANCELLED, STALE = "pending", "booked", "cancelled", "stale"
PROPOSAL_WINDOW = dt.timedelta(minutes=10)  # as long as a /register conversation waits


@dataclass(frozen=True)
class SeatOffer:
    """A proposal waiting for its first slot: the slots with seats left to choose from.
    ``asked_again``: the plan shown before could no longer be booked as it was."""

    proposal_id: int
    unit_name: str
    wanted: int
    free: list[SlotView]
    asked_again: bool = False


@dataclass(frozen=True)
class Plan:
    """How a proposal would be booked: (slot, seats) in booking order."""

    proposal_id: int
    unit_name: str
    wanted: int
    parts: list[tuple[SlotView, int]]


@dataclass(frozen=True)
class Booked:
    """A plan booked; ``again``: this press found it booked already (nothing more is)."""

    unit_name: str
    parts: list[tuple[SlotView, int]]
    again: bool = False
    online: int = 0  # learners the unit also registered for online zone sessions (approved)


@dataclass(frozen=True)
class ChooseSlot:
    proposal_id: int
    slot_id: int


@dataclass(frozen=True)
class BookProposal:
    proposal_id: int


@dataclass(frozen=True)
class DropProposal:
    proposal_id: int


def _new(uow: UnitOfWork, identity: Identity, unit: Unit, seats: int) -> SeatOffer:
    proposal = SeatProposal(
        unit_id=unit.id or 0,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        seats=seats,
        created_at=uow.now,
        expires_at=uow.now + PROPOSAL_WINDOW,
    )
    uow.session.add(proposal)
    uow.session.flush()
    free = [v for v in slots(uow.session, uow.config) if v.left > 0]
    return SeatOffer(proposal.id or 0, unit.name, seats, free)


def offer(uow: UnitOfWork, seats_text: str) -> SeatOffer:
    """/seats_book N: a pending proposal for N seats, and the slots that still have seats."""
    identity = uow.authorize()
    wanted = parse_seats(seats_text)
    require_window(uow.config, uow.now)
    unit = centralized_unit(uow)
    require_seats(wanted)
    return _new(uow, identity, unit, wanted)


def _mine(uow: UnitOfWork, proposal_id: int) -> tuple[Identity, SeatProposal]:
    """The presser's own proposal (anyone else's, or none, is "not yours")."""
    identity = uow.authorize()
    proposal = uow.session.get(SeatProposal, proposal_id)
    if proposal is None or proposal.telegram_user_id != identity.telegram_user_id:
        raise Refused("action_unknown")
    return identity, proposal


def _open(uow: UnitOfWork, proposal: SeatProposal) -> Unit:
    """A proposal that may still be acted on, for the unit the presser administers now."""
    if proposal.status != PENDING:
        raise Refused("action_done", status=proposal.status)
    if uow.now > proposal.expires_at:
        raise Refused("action_expired", minutes=int(PROPOSAL_WINDOW.total_seconds() // 60))
    require_window(uow.config, uow.now)
    unit = centralized_unit(uow)
    if unit.id != proposal.unit_id:  # the binding moved to another unit meanwhile
        raise Refused("action_unknown")
    return unit


def _claim(uow: UnitOfWork, proposal: SeatProposal, status: str) -> None:
    """Move a pending proposal to ``status``, exactly once (a second press finds it moved)."""
    claimed = cast(
        Any,
        uow.session.execute(
            update(SeatProposal)
            .where(col(SeatProposal.id) == proposal.id, col(SeatProposal.status) == PENDING)
            .values(status=status, decided_at=uow.now)
        ),
    )
    if claimed.rowcount != 1:
        raise Refused("action_done", status=status)


def _parts(proposal: SeatProposal) -> list[tuple[int, int]]:
    return [(int(slot_id), int(seats)) for slot_id, seats in json.loads(proposal.parts or "[]")]


def choose(uow: UnitOfWork, request: ChooseSlot) -> Plan:
    """A slot chosen: the plan from it (split over the following slots when it cannot hold
    everyone), stored on the proposal; nothing is booked yet."""
    _identity, proposal = _mine(uow, request.proposal_id)
    unit = _open(uow, proposal)
    views = slots(uow.session, uow.config)
    if not any(v.id == request.slot_id for v in views):
        raise Refused("slot_unknown")
    parts = split(views, request.slot_id, proposal.seats)
    stored = json.dumps([[view.id, seats] for view, seats in parts])
    updated = cast(
        Any,
        uow.session.execute(
            update(SeatProposal)
            .where(col(SeatProposal.id) == proposal.id, col(SeatProposal.status) == PENDING)
            .values(parts=stored)
        ),
    )
    if updated.rowcount != 1:
        raise Refused("action_done", status=BOOKED)
    return Plan(proposal.id or 0, unit.name, proposal.seats, parts)


def book(uow: UnitOfWork, request: BookProposal) -> Booked | SeatOffer:
    """Book the plan the proposal holds, once. A slot of it that no longer has room makes
    the proposal stale and asks again (a fresh proposal and the slots left); a press after
    the booking shows it again and books nothing."""
    identity, proposal = _mine(uow, request.proposal_id)
    views = {v.id: v for v in slots(uow.session, uow.config)}
    parts = _parts(proposal)
    if proposal.status == BOOKED:
        unit = uow.session.get(Unit, proposal.unit_id)
        shown = [(views[slot_id], n) for slot_id, n in parts if slot_id in views]
        return Booked(unit.name if unit else "", shown, again=True)
    unit = _open(uow, proposal)
    if not parts:
        raise Refused("action_unknown")  # no slot was chosen: there is nothing to confirm
    if any(slot_id not in views or views[slot_id].left < n for slot_id, n in parts):
        _claim(uow, proposal, STALE)
        uow.audit("seats.asked_again", target=unit.name, detail={"parts": parts})
        fresh = _new(uow, identity, unit, proposal.seats)
        return SeatOffer(fresh.proposal_id, fresh.unit_name, fresh.wanted, fresh.free, True)
    _claim(uow, proposal, BOOKED)
    place(uow, unit, parts)  # a slot taken since the check above refuses: all rolls back
    online = admission.zone_registered(uow.session, uow.config, unit)
    return Booked(unit.name, [(views[slot_id], n) for slot_id, n in parts], online=online)


def drop(uow: UnitOfWork, request: DropProposal) -> None:
    """取消 on a plan or an offer: the proposal can no longer be booked."""
    _identity, proposal = _mine(uow, request.proposal_id)
    if proposal.status != PENDING:
        raise Refused("action_done", status=proposal.status)
    _claim(uow, proposal, CANCELLED)
