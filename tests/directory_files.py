"""Directory CSV files the import tests and bench/directory_import.py share."""

BAD_EVERY = 100


def directory_file(lines: int, bad_every: int = BAD_EVERY) -> tuple[str, list[int]]:
    """A CSV of ``lines`` contacts over ``lines // 10`` companies; every ``bad_every``-th row is refused.

    Returns the text and the (file) line numbers of the bad rows. The columns are in an
    unusual order and case, and the numbers in several common notations.
    """
    rows, bad = ["Language;NAME;Phone;Company;Contract;E-mail;Notes"], []
    contracts = ("none", "basic", "wise", "magic")
    for index in range(lines):
        number = f"0470 {index // 10000:02d} {index % 10000 // 100:02d} {index % 100:02d}"
        second = f"+32 (0)3 2{index % 100:02d}.{index // 100:02d}.00" if index % 7 == 0 else ""
        phones = f'"{number}; {second}"' if second else number
        company = f"Company {index // 10:04d}"
        language, contract = ("nl", "fr", "en")[index % 3], contracts[index // 10 % 4]
        row = f"{language};Contact {index:05d};{phones};{company};{contract};c{index}@example.be;x"
        if index % bad_every == bad_every - 1:
            row = f"nl;Contact {index:05d};not a number;{company};basic;;"
            bad.append(index + 2)
        rows.append(row)
    return "\n".join(rows) + "\n", bad
