def main() -> None:  # replaced below once the CLI lands
    raise SystemExit("incident-tui: CLI not built yet")
