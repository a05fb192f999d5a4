"""Chat platforms: the contract each one fulfils and the registry that lists them.

Adding a platform (or a second channel of one, such as WeCom's AI-bot long connection):

1. A package `bot/<name>/` whose `__init__.py` defines `SPEC = PlatformSpec(...)` (spec.py):
   how its `[<name>]` table is read, the `[[people]]` key holding a person's user id there
   (or `people_of` naming the platform whose user ids it shares), `create` building its
   `Platform`, and, as it needs them, `mount` (its HTTP callbacks on the Flask app) and
   `add_commands` (its own `linerelay` subcommands, e.g. a long-running connection process).
2. A `Platform` subclass (contract.py): its `Capabilities`, how a reply, a group notice, a
   message to one person and (where it can) a card travel there, as `Delivery`s, and the
   `senders` that carry each channel. Its adapter turns callbacks into `ChatMessage` /
   `CardClick` for `Relay.handle_message` / `Relay.handle_click` and answers in its own terms.
3. Its twin, `bot/twins/<name>.py`, with `sandbox_twin(settings, clock)` (named in `SPEC.twin`),
   playing the platform for the tests and the sandbox without sharing the app's code.
4. One line in `registry.INSTALLED`.

Nothing else changes: the router, cards, the sandbox, the CLI and configuration read the
registry and the capabilities. tests/test_third_platform.py does all of it in one file.
"""
