"""Grouping the plate reads of one passing vehicle across frames, so auto mode makes one flow per vehicle.

The rule. A :class:`Sighting` (one plate read in one frame) joins an *open* vehicle when its plate looks
like one the vehicle was read as and the vehicle's last sighting is at most ``window`` before it; otherwise
it opens a new vehicle. "Looks like" is the ``similar`` rule of the search filters: the two plates'
canonical forms (:func:`seedata_core.lookalike.canonical`, which maps O to 0, B to 8 and so on) are
equal or one substitution, insertion or deletion apart (:func:`seedata_core.lookalike.within_one_edit`).
A vehicle is compared with every distinct canonical plate it was read as (up to
:data:`MAX_PLATES_PER_VEHICLE`, always including its best read's), not only its best, because a reader
that gets one character wrong now and then does not always get the same one wrong. When a sighting looks
like several open vehicles, they are merged: one sighting that matches both shows they are one vehicle
read two ways. A vehicle closes once a sighting, :meth:`VehicleGrouper.expire` or
:meth:`VehicleGrouper.close` shows that more than ``window`` passed since its last sighting.

Why: a vehicle is read in many consecutive frames, often with a character or two misread in some of them,
and its reads stop when it leaves; two vehicles in the window with plates this alike are far rarer than one
misread vehicle. What it costs: two vehicles whose plates are this alike, passing within ``window`` of
each other, make one flow (with the better read).

Guarantees: sightings below ``min_score`` are ignored; every other sighting ends up in exactly one emitted
:class:`Vehicle`, which is emitted once, with its best read (highest score, earliest on ties); the frame
of the best read is the only one kept per vehicle. Each list of closed vehicles is in order of
``first_at``; a short vehicle may close, and be emitted, before a longer one that began before it.
Sightings are expected in order of time; one that is earlier than a vehicle's last sighting still joins
it if it looks alike. Not thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec

from .frames import Frame
from .lookalike import canonical, within_one_edit

__all__ = ["MAX_PLATES_PER_VEHICLE", "Sighting", "Vehicle", "VehicleGrouper"]

MAX_PLATES_PER_VEHICLE = 8
"""Distinct canonical plates remembered per open vehicle for matching; keeps memory bounded."""


class Sighting(msgspec.Struct, frozen=True, kw_only=True):
    """One plate read in one frame."""

    plate: str  # as the engine read it, upper-case A-Z0-9
    score: float  # 0..1
    at: datetime  # aware UTC, the frame's captured_at
    frame: Frame  # the whole picture
    box: tuple[int, int, int, int]  # where the plate is in the frame


class Vehicle(msgspec.Struct, frozen=True, kw_only=True):
    """The sightings of one passing vehicle, summed up: its best read and when it was seen."""

    best: Sighting  # highest score; on ties the earliest
    first_at: datetime
    last_at: datetime
    sightings: int


def _better(a: Sighting, b: Sighting) -> bool:
    """Whether ``a`` is a better read than ``b``: higher score, or as high and earlier."""
    return a.score > b.score or (a.score == b.score and a.at < b.at)


class _OpenVehicle:
    """A vehicle still being seen: its best sighting, times, count and the plates it was read as."""

    __slots__ = ("best", "first_at", "last_at", "plates", "sightings")

    def __init__(self, sighting: Sighting, plate: str) -> None:
        self.best = sighting
        self.first_at = self.last_at = sighting.at
        self.sightings = 1
        self.plates: dict[str, None] = {plate: None}  # canonical plates, oldest first

    def looks_like(self, plate: str) -> bool:
        return plate in self.plates or any(within_one_edit(plate, known) for known in self.plates)

    def take(self, sighting: Sighting, plate: str) -> None:
        if _better(sighting, self.best):
            self.best = sighting
        self.first_at = min(self.first_at, sighting.at)
        self.last_at = max(self.last_at, sighting.at)
        self.sightings += 1
        self._remember(plate)

    def absorb(self, other: _OpenVehicle) -> None:
        if _better(other.best, self.best):
            self.best = other.best
        self.first_at = min(self.first_at, other.first_at)
        self.last_at = max(self.last_at, other.last_at)
        self.sightings += other.sightings
        for plate in other.plates:
            self._remember(plate)

    def _remember(self, plate: str) -> None:
        self.plates.pop(plate, None)  # re-inserted as the newest
        self.plates[plate] = None
        if len(self.plates) > MAX_PLATES_PER_VEHICLE:
            keep = canonical(self.best.plate)
            oldest = next(known for known in self.plates if known != keep)
            del self.plates[oldest]

    def vehicle(self) -> Vehicle:
        return Vehicle(best=self.best, first_at=self.first_at, last_at=self.last_at, sightings=self.sightings)


class VehicleGrouper:
    """Groups sightings into vehicles by the rule in the module docstring."""

    def __init__(self, *, window: timedelta = timedelta(seconds=3), min_score: float = 0.0) -> None:
        """
        :param window: the longest gap between two sightings of one vehicle.
        :param min_score: sightings scored below this are ignored.
        """
        if window < timedelta(0):
            raise ValueError(f"window must not be negative, got {window}")
        self.window = window
        self.min_score = min_score
        self._open: list[_OpenVehicle] = []

    def add(self, sighting: Sighting) -> list[Vehicle]:
        """Take a sighting; return the vehicles it closed: last seen more than ``window`` before it."""
        if sighting.score < self.min_score:
            return []
        closed = self._close_where(lambda vehicle: sighting.at - vehicle.last_at > self.window)
        plate = canonical(sighting.plate)
        alike = [vehicle for vehicle in self._open if vehicle.looks_like(plate)]
        if not alike:
            self._open.append(_OpenVehicle(sighting, plate))
            return closed
        target, *others = alike
        for other in others:
            target.absorb(other)
            self._open.remove(other)
        target.take(sighting, plate)
        return closed

    def expire(self, now: datetime) -> list[Vehicle]:
        """Close and return the vehicles whose last sighting is more than ``window`` before ``now``."""
        return self._close_where(lambda vehicle: now - vehicle.last_at > self.window)

    def close(self) -> list[Vehicle]:
        """Close and return every open vehicle, e.g. when the camera stops."""
        return self._close_where(lambda vehicle: True)

    @property
    def open_vehicles(self) -> int:
        """How many vehicles are open."""
        return len(self._open)

    def _close_where(self, done: Callable[[_OpenVehicle], bool]) -> list[Vehicle]:
        closing: list[_OpenVehicle] = []
        staying: list[_OpenVehicle] = []
        for vehicle in self._open:
            (closing if done(vehicle) else staying).append(vehicle)
        self._open = staying
        return [vehicle.vehicle() for vehicle in sorted(closing, key=lambda vehicle: vehicle.first_at)]
