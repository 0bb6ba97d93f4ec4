"""Grouping plate reads into vehicles: tables of passes, then properties over random streams of reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seedata_core.frames import Frame
from seedata_core.grouping import MAX_PLATES_PER_VEHICLE, Sighting, Vehicle, VehicleGrouper
from seedata_core.lookalike import DIGIT_TO_LETTER, canonical, within_one_edit

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
WINDOW = timedelta(seconds=3)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sighting(plate: str, score: float, seconds: float) -> Sighting:
    picture = Frame(
        width=1,
        height=1,
        rgb=bytes([len(plate), int(score * 255), int(seconds) % 256]),
        captured_at=at(seconds),
    )
    return Sighting(plate=plate, score=score, at=at(seconds), frame=picture, box=(0, 0, 1, 1))


def run(grouper: VehicleGrouper, sightings: list[Sighting]) -> list[Vehicle]:
    """Every vehicle emitted while adding ``sightings`` and at close, in emission order."""
    emitted = [vehicle for each in sightings for vehicle in grouper.add(each)]
    return emitted + grouper.close()


def summary(vehicles: list[Vehicle]) -> list[tuple[str, float, float, float, int]]:
    """(best plate, best score, first, last seconds, sightings) of each vehicle."""
    return [
        (
            vehicle.best.plate,
            vehicle.best.score,
            (vehicle.first_at - T0).total_seconds(),
            (vehicle.last_at - T0).total_seconds(),
            vehicle.sightings,
        )
        for vehicle in vehicles
    ]


# (plate, score, seconds) reads -> (best plate, best score, first, last, sightings) vehicles, window 3 s
CASES: dict[str, tuple[list[tuple[str, float, float]], list[tuple[str, float, float, float, int]]]] = {
    "one vehicle, five reads, one O/0 misread": (
        [
            ("KO123X", 0.7, 0),
            ("KO123X", 0.8, 0.2),
            ("K0123X", 0.95, 0.4),
            ("KO123X", 0.9, 0.6),
            ("KO123X", 0.6, 0.8),
        ],
        [("K0123X", 0.95, 0, 0.8, 5)],
    ),
    "the best read wins over the most frequent one": (
        [("AB123", 0.5, 0), ("AB123", 0.5, 1), ("A8123", 0.9, 2)],
        [("A8123", 0.9, 0, 2, 3)],
    ),
    "a read missing a character joins": (
        [("KO123X", 0.9, 0), ("KO12X", 0.5, 0.5), ("O123X", 0.4, 1)],
        [("KO123X", 0.9, 0, 1, 3)],
    ),
    "a read with one wrong character joins": (
        [("KO123X", 0.9, 0), ("KO124X", 0.5, 0.5)],
        [("KO123X", 0.9, 0, 0.5, 2)],
    ),
    "a read like an earlier read but not like the best one joins": (
        [("ABC123", 0.5, 0), ("ABC12", 0.9, 0.5), ("ABC1X3", 0.4, 1)],
        [("ABC12", 0.9, 0, 1, 3)],
    ),
    "plates two edits apart are two vehicles": (
        [("KO123X", 0.9, 0), ("KO456X", 0.8, 0.5)],
        [("KO123X", 0.9, 0, 0, 1), ("KO456X", 0.8, 0.5, 0.5, 1)],
    ),
    "the same plate after a gap over the window is two vehicles": (
        [("AB123", 0.9, 0), ("AB123", 0.8, 1), ("AB123", 0.7, 4.5)],
        [("AB123", 0.9, 0, 1, 2), ("AB123", 0.7, 4.5, 4.5, 1)],
    ),
    "a gap of exactly the window is one vehicle": (
        [("AB123", 0.9, 0), ("AB123", 0.8, 3)],
        [("AB123", 0.9, 0, 3, 2)],
    ),
    "a long chain of reads is one vehicle however long it lasts": (
        [("AB123", 0.5 + step / 100, step * 2.5) for step in range(20)],
        [("AB123", 0.5 + 19 / 100, 0, 47.5, 20)],
    ),
    "two lanes interleaved are two vehicles, in order of first sighting": (
        [("XY987", 0.6, 0), ("AB123", 0.9, 0.1), ("XY987", 0.7, 0.5), ("AB123", 0.8, 0.6), ("XY987", 0.9, 1)],
        [("XY987", 0.9, 0, 1, 3), ("AB123", 0.9, 0.1, 0.6, 2)],
    ),
    "equal scores: the earliest read is best": (
        [("AB123", 0.8, 0), ("A8123", 0.8, 1)],
        [("AB123", 0.8, 0, 1, 2)],
    ),
    "a read like two open vehicles merges them": (
        [("ABC1XX", 0.6, 0), ("ABC123", 0.7, 0.5), ("ABC12X", 0.5, 1)],
        [("ABC123", 0.7, 0, 1, 3)],
    ),
}


@pytest.mark.parametrize(("reads", "expected"), list(CASES.values()), ids=list(CASES))
def test_passes(
    reads: list[tuple[str, float, float]], expected: list[tuple[str, float, float, float, int]]
) -> None:
    vehicles = run(VehicleGrouper(window=WINDOW), [sighting(*read) for read in reads])
    assert summary(vehicles) == expected


def test_reads_below_the_minimum_score_are_ignored_entirely() -> None:
    grouper = VehicleGrouper(window=WINDOW, min_score=0.5)
    assert grouper.add(sighting("AB123", 0.9, 0)) == []
    assert grouper.add(sighting("AB123", 0.4, 10)) == []  # ignored: does not even close the vehicle at 0
    assert grouper.open_vehicles == 1
    assert grouper.add(sighting("XY987", 0.49, 11)) == []
    assert summary(grouper.close()) == [("AB123", 0.9, 0, 0, 1)]


def test_a_score_equal_to_the_minimum_counts() -> None:
    vehicles = run(VehicleGrouper(min_score=0.5), [sighting("AB123", 0.5, 0)])
    assert summary(vehicles) == [("AB123", 0.5, 0, 0, 1)]


def test_add_returns_the_vehicles_it_closed() -> None:
    grouper = VehicleGrouper(window=WINDOW)
    assert grouper.add(sighting("AB123", 0.9, 0)) == []
    assert grouper.add(sighting("XY987", 0.9, 2)) == []
    assert grouper.add(sighting("XY987", 0.9, 3)) == []
    assert summary(grouper.add(sighting("CD456", 0.9, 3.5))) == [("AB123", 0.9, 0, 0, 1)]
    assert grouper.open_vehicles == 2
    assert summary(grouper.add(sighting("CD456", 0.9, 6.4))) == [("XY987", 0.9, 2, 3, 2)]
    assert summary(grouper.close()) == [("CD456", 0.9, 3.5, 6.4, 2)]


def test_expire_closes_only_vehicles_past_the_window() -> None:
    grouper = VehicleGrouper(window=WINDOW)
    grouper.add(sighting("AB123", 0.9, 0))
    grouper.add(sighting("XY987", 0.8, 1))
    assert grouper.expire(at(3)) == []
    assert summary(grouper.expire(at(3.5))) == [("AB123", 0.9, 0, 0, 1)]
    assert summary(grouper.expire(at(60))) == [("XY987", 0.8, 1, 1, 1)]
    assert grouper.expire(at(120)) == []
    assert grouper.close() == []


def test_close_returns_every_open_vehicle_once_in_order_of_first_sighting() -> None:
    grouper = VehicleGrouper(window=WINDOW)
    for each in [sighting("XY987", 0.9, 0), sighting("AB123", 0.9, 1), sighting("XY987", 0.9, 2)]:
        grouper.add(each)
    assert [vehicle.best.plate for vehicle in grouper.close()] == ["XY987", "AB123"]
    assert grouper.close() == []
    assert grouper.open_vehicles == 0


def test_the_best_read_keeps_its_own_frame_and_box() -> None:
    best = sighting("AB123", 0.9, 1)
    vehicles = run(VehicleGrouper(), [sighting("AB123", 0.5, 0), best, sighting("AB123", 0.7, 2)])
    assert vehicles[0].best is best


def test_many_different_misreads_stay_one_vehicle() -> None:
    """More distinct reads than a vehicle remembers, all one edit from the true plate."""
    reads = [
        sighting(f"AB12{character}", 0.5, index * 0.1)
        for index, character in enumerate("ACDEFHJKLMNPQRTUVWXY")
    ]
    reads.append(sighting("AB123", 0.9, 3))
    assert len(reads) > MAX_PLATES_PER_VEHICLE
    assert summary(run(VehicleGrouper(window=WINDOW), reads)) == [("AB123", 0.9, 0, 3, 21)]


def test_the_best_read_is_remembered_however_many_other_reads_come() -> None:
    """XB123 is alike to the best read AB123 only, which came before more reads than are remembered."""
    reads = [sighting("AB123", 0.9, 0)]
    reads += [
        sighting(f"AB12{character}", 0.5, 0.1 + index * 0.1) for index, character in enumerate("ACDEFHJKLM")
    ]
    reads.append(sighting("XB123", 0.5, 1.2))
    assert summary(run(VehicleGrouper(window=WINDOW), reads)) == [("AB123", 0.9, 0, 1.2, 12)]


def test_a_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        VehicleGrouper(window=timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("a", "b", "alike"),
    [
        ("a8123", "a8123", True),
        ("a8123", "a8124", True),
        ("a8123", "a812", True),
        ("a8123", "8123", True),
        ("a8123", "a81x23", True),
        ("a8123", "a8213", False),
        ("a8123", "a81", False),
        ("", "a", True),
        ("", "ab", False),
    ],
)
def test_within_one_edit(a: str, b: str, alike: bool) -> None:
    assert within_one_edit(a, b) is alike
    assert within_one_edit(b, a) is alike


# --- properties -----------------------------------------------------------------------------------------

# Each family (one vehicle's plate and its misreads) draws from its own canonical characters, so reads of
# two families are never alike, while every read of one family is alike to every other: the base plate,
# or it with one fixed position replaced or dropped, with look-alike letters for digits here and there.
FAMILY_CHARACTERS = ["acde01", "fhjk58", "lmnp26"]
STEPS = [0.0, 0.5, 1.0, 2.5, 3.0, 3.5, 6.0]  # seconds between reads, around a 3 s window


@st.composite
def family_reads(draw: st.DrawFn) -> tuple[list[Sighting], list[int], list[float | None]]:
    """Reads of up to three vehicle families in time order, the family of each, and expire times."""
    bases = [draw(st.text(characters, min_size=6, max_size=6)) for characters in FAMILY_CHARACTERS]
    positions = [draw(st.integers(0, 5)) for _ in bases]
    count = draw(st.integers(1, 40))
    reads: list[Sighting] = []
    families: list[int] = []
    expiries: list[float | None] = []
    seconds = 0.0
    for _ in range(count):
        seconds += draw(st.sampled_from(STEPS))
        family = draw(st.integers(0, len(bases) - 1))
        base, position = bases[family], positions[family]
        change = draw(st.sampled_from(["none", "replace", "drop"]))
        if change == "replace":
            base = base[:position] + draw(st.sampled_from(FAMILY_CHARACTERS[family])) + base[position + 1 :]
        elif change == "drop":
            base = base[:position] + base[position + 1 :]
        plate = "".join(
            DIGIT_TO_LETTER[character]
            if character in DIGIT_TO_LETTER and draw(st.booleans())
            else character.upper()
            for character in base
        )
        reads.append(sighting(plate, draw(st.sampled_from([0.2, 0.5, 0.5, 0.8, 0.9])), seconds))
        families.append(family)
        # sometimes expire between this read and the next one, as a worker with no reads does
        expiries.append(seconds + draw(st.sampled_from(STEPS)) if draw(st.booleans()) else None)
    return reads, families, expiries


def expected_vehicles(reads: list[Sighting], families: list[int], min_score: float) -> list[Vehicle]:
    """Per family, the accepted reads split where the gap exceeds the window."""
    groups: dict[int, list[list[Sighting]]] = {}
    for read, family in zip(reads, families, strict=True):
        if read.score < min_score:
            continue
        runs = groups.setdefault(family, [])
        if runs and read.at - runs[-1][-1].at <= WINDOW:
            runs[-1].append(read)
        else:
            runs.append([read])
    return [
        Vehicle(
            best=max(group, key=lambda read: (read.score, -(read.at - T0).total_seconds())),
            first_at=group[0].at,
            last_at=group[-1].at,
            sightings=len(group),
        )
        for runs in groups.values()
        for group in runs
    ]


def key(vehicle: Vehicle) -> tuple[datetime, str]:
    return vehicle.first_at, vehicle.best.plate


@given(family_reads(), st.sampled_from([0.0, 0.5]))
def test_each_family_becomes_its_runs_with_their_best_reads(
    stream: tuple[list[Sighting], list[int], list[float | None]], min_score: float
) -> None:
    reads, families, expiries = stream
    grouper = VehicleGrouper(window=WINDOW, min_score=min_score)
    emitted: list[Vehicle] = []
    for index, read in enumerate(reads):
        emitted += grouper.add(read)
        expiry = expiries[index]
        if expiry is not None and (
            index + 1 == len(reads) or expiry <= (reads[index + 1].at - T0).total_seconds()
        ):
            emitted += grouper.expire(at(expiry))
    emitted += grouper.close()
    assert sorted(emitted, key=key) == sorted(expected_vehicles(reads, families, min_score), key=key)


PLATES = st.text("AB08O", min_size=1, max_size=4)  # short plates over look-alikes: many alike, many merges


@st.composite
def random_reads(draw: st.DrawFn) -> list[Sighting]:
    seconds = 0.0
    reads = []
    for _ in range(draw(st.integers(0, 40))):
        seconds += draw(st.sampled_from(STEPS))
        reads.append(sighting(draw(PLATES), draw(st.floats(0, 1)), seconds))
    return reads


@given(random_reads(), st.floats(0, 1))
def test_any_stream_of_reads(reads: list[Sighting], min_score: float) -> None:
    grouper = VehicleGrouper(window=WINDOW, min_score=min_score)
    batches = [grouper.add(read) for read in reads] + [grouper.close()]
    emitted = [vehicle for batch in batches for vehicle in batch]
    accepted = [read for read in reads if read.score >= min_score]

    # conservation: every accepted read is in exactly one vehicle
    assert sum(vehicle.sightings for vehicle in emitted) == len(accepted)
    # each vehicle once, its best one of the accepted reads, within its own time span
    assert len({id(vehicle.best) for vehicle in emitted}) == len(emitted)
    assert all(any(vehicle.best is read for read in accepted) for vehicle in emitted)
    assert all(vehicle.first_at <= vehicle.best.at <= vehicle.last_at for vehicle in emitted)
    # each batch in order of first sighting; a vehicle closed by a read ended over a window before it
    assert all(batch == sorted(batch, key=lambda vehicle: vehicle.first_at) for batch in batches)
    for read, batch in zip(reads, batches, strict=False):
        assert all(read.at - vehicle.last_at > WINDOW for vehicle in batch)
    assert grouper.open_vehicles == 0
    # two vehicles with alike best reads: the later best read came over a window after the other ended
    order = {id(read): index for index, read in enumerate(reads)}
    for first in emitted:
        for second in emitted:
            if first is second or order[id(first.best)] > order[id(second.best)]:
                continue
            if within_one_edit(canonical(first.best.plate), canonical(second.best.plate)):
                assert second.best.at - first.last_at > WINDOW


@given(random_reads())
def test_the_best_read_of_one_plate_is_its_highest_score(reads: list[Sighting]) -> None:
    """With a single plate, reads split only by gaps, and each vehicle's best is the top of its run."""
    same = [sighting("AB123", read.score, (read.at - T0).total_seconds()) for read in reads]
    vehicles = run(VehicleGrouper(window=WINDOW), same)
    assert sorted(vehicles, key=key) == sorted(expected_vehicles(same, [0] * len(same), 0.0), key=key)
