"""What every provider shares: check, diff and update as its resource's table says, connection
options, and the settings of an API call.

The stack's `finetune:*` settings arrive in `configure()`: the program passes them as the inputs
of the stack's explicit provider resource (see `pulumi_finetune.program`), so the provider needs
neither the `pulumi` CLI nor a working directory, and runs the same under the CLI, in CI and
through the Automation API. They stay in this process's memory; the provider object that Pulumi
pickles holds none of them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    DiffResult,
    ResourceProvider,
    UpdateResult,
)

from .. import settings as settings_mod
from ..errors import SettingsError
from ..identity import URN as URN_INPUT
from ..schema import CONNECTION_OPTIONS, ORIGIN, PROVIDER_REF, Source, Table
from ..spec import is_unknown
from .failures import explained, quiet_tracebacks

if TYPE_CHECKING:
    from ..client import Client

_CONFIG_ATTR = "_stack_config"
# The serialized provider, which the engine adds to every resource's inputs.
PROVIDER_KEY = "__provider"


class TableProvider(ResourceProvider):
    """A dynamic provider whose check, diff and update follow its resource's table.

    A subclass names its `table` and adds what the table cannot say: value checks
    (`check_inputs`) and, if its API fields compare in another form than declared, `compared`.
    The object Pulumi pickles into state holds nothing: settings (and the key) arrive through
    `configure()` in the provider process.
    """

    table: ClassVar[Table]
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        return {}  # nothing configured at run time ever reaches the pickled state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def configure(self, req: ConfigureRequest) -> None:
        store_config(self, req)
        quiet_tracebacks()
        # A `pulumi` killed outright leaves this process behind: stop once its engine is gone.
        from .waiting import watch_engine

        watch_engine()

    # -- check / diff / update: local only, no HTTP --------------------------------------------

    @explained("Unable to check the resource's inputs")
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Defaults filled in, the subclass's checks, then arguments the table does not know.

        Each failure names its property path in its reason, with no `property`: Pulumi shows a
        failure's property as `property P value V has a problem`, where V is the top-level
        input named P (`<nil>` for a nested path such as `method.supervised...n_epochs`), so
        `resource 'x' has a problem: n_epochs...: got "three"; ...` reads better.
        """
        inputs = dict(news)
        for key, default in self.table.defaults.items():
            if inputs.get(key) is None:
                inputs[key] = default
        found = list(self.check_inputs(inputs, _olds))
        for key in sorted(set(news) - self.table.names - {PROVIDER_KEY}):
            found.append((key, f"unknown argument {key!r} of {self.table.resource}"))
        return CheckResult(
            inputs, [CheckFailure("", f"{path}: {reason}") for path, reason in found]
        )

    def check_inputs(
        self, inputs: dict[str, Any], olds: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """(property path, reason) for each bad value; may add the values check computes
        (`olds`: the inputs recorded by the last check, empty for a new resource)."""
        return []

    def compared(self, props: Mapping[str, Any]) -> Mapping[str, Any]:
        """The inputs (or recorded outputs) in the form diff compares them."""
        return props

    @explained("Unable to compare the resource with its state")
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        old, new = self.compared(olds), self.compared(news)
        replaces = [
            key
            for key in self.table.replace_on_change
            if (is_unknown(new.get(key)) or old.get(key) != new.get(key))
            and not self._recorded_before(key, old)
        ]
        updates = self.updated_in_place(old, new)
        return DiffResult(
            changes=bool(replaces or updates), replaces=replaces, delete_before_replace=False
        )

    def _recorded_before(self, key: str, old: Mapping[str, Any]) -> bool:
        """Whether the state predates `key`, a value check computes (an upgrade added it): no
        diff then, or every existing resource would be replaced by the upgrade alone."""
        return self.table[key].output is Source.CHECK and old.get(key) is None

    def updated_in_place(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
        """The attributes a change of which updates in place that differ (unset: default)."""
        return [
            attr.name
            for attr in self.table.update_in_place
            if _or_default(olds.get(attr.name), attr.default)
            != _or_default(news.get(attr.name), attr.default)
        ]

    @explained("Unable to update the resource", lambda p, props: base_url_of(p, props))
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only what changes without a replace: the table's options, internal inputs and
        locally computed values; what the API answered stays as last seen."""
        outs = inputs_of(olds)
        for key in self.table.copied_by_update:
            outs[key] = news.get(key)
        return UpdateResult(outs)


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """The properties without the serialized provider."""
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


def store_config(provider: object, req: ConfigureRequest) -> None:
    """Keep the `finetune:*` settings that `configure()` received."""
    config = {}
    for name in settings_mod.CONFIG_NAMES:
        key = settings_mod.config_key(name)
        value = req.config.get(key)
        if value is not None:
            config[key] = value
    setattr(provider, _CONFIG_ATTR, config)


def settings_for(provider: object, props: Mapping[str, Any]) -> settings_mod.Settings:
    """Settings for an API call, resolved once per engine call: resource argument > stack config
    > environment > default; the credential only where it is bound (`pulumi_finetune.settings`).
    """
    return settings_mod.resolve(props, getattr(provider, _CONFIG_ATTR, None) or {})


def base_url_of(provider: object, props: Mapping[str, Any]) -> str:
    """The endpoint an API call for `props` goes to (named in errors)."""
    return settings_for(provider, props).base_url


def client_for(
    provider: object, props: Mapping[str, Any], settings: settings_mod.Settings | None = None
) -> Client:
    """An HTTP client for an API call (with `settings` when the call resolved them already).
    Imported here, not at module level: the program side imports the providers only to name
    their classes, and preview never makes a request."""
    from ..client import Client

    return Client(settings or settings_for(provider, props))


def host_of(provider: object, props: Mapping[str, Any]) -> str:
    """The host of `props` (argument > `finetune:host` > base URL), for read: a state recorded
    before the host existed, or a `.get`, learns it from the settings in force."""
    return settings_for(provider, props).host_row().name


def recorded_origin(props: Mapping[str, Any]) -> str:
    """The origin a resource was created at, as its state records it ("" for a state recorded
    before `origin` existed)."""
    value = props.get(ORIGIN.name)
    return value if isinstance(value, str) and not is_unknown(value) else ""


def elsewhere(
    provider: object, props: Mapping[str, Any], settings: settings_mod.Settings
) -> str | None:
    """Why this provider has no credential where a recorded resource lives (None when it has):
    its `base_url` is at another origin than the provider's key, or it was created at another
    origin than the one this provider now sends it to with the key bound there (the stack's
    config moved: the engine deletes a replaced resource through the provider it was created
    with). A request there would carry the wrong key, or ask the wrong place; nothing is sent.

    A state recorded before `origin` existed falls back to the host it records against the host
    the provider's settings name."""
    if settings.unbound:
        bound = settings.bound_origin
        return f"lives at {settings.origin}, and this provider's key is bound to {bound}"
    recorded = recorded_origin(props)
    if recorded:
        if recorded == settings.origin:
            return None
        return (
            f"lives at {recorded}, and this provider's key is now bound to {settings.origin} "
            "(its settings moved since it was created)"
        )
    config = getattr(provider, _CONFIG_ATTR, None) or {}
    host = props.get(settings_mod.HOST_ARGUMENT)
    try:
        named = settings_mod.resolve_host(None, config, settings.base_url)
    except SettingsError:
        return None
    names_a_host = bool(named.hostnames or settings_mod.declared_host(None, config))
    if names_a_host and isinstance(host, str) and host and host != named.name:
        return (
            f"was created on host {host}, and this provider's settings now name host "
            f"{named.name} ({settings.origin})"
        )
    return None


def moved_by_its_provider(
    provider: object, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(recorded origin, origin now) when a recorded resource would be deleted through this very
    provider (the same provider resource: `schema.PROVIDER_REF`) and that provider now sends it
    elsewhere than where it lives. None otherwise: same origin, another provider (the engine
    deletes through the old one, with its own settings), or a state that does not record both."""
    recorded = recorded_origin(olds)
    ref = olds.get(PROVIDER_REF)
    if not recorded or not isinstance(ref, str) or not ref or ref != news.get(PROVIDER_REF):
        return None
    try:
        now = settings_for(provider, olds)
    except SettingsError:
        return None
    if now.unbound:  # its own base_url names an origin this provider holds no key for
        return recorded, str(now.bound_origin)
    return None if now.origin == recorded else (recorded, now.origin)


def stranded(what: str, at: str, now: str, why: str) -> str:
    """Why preview refuses to move `what` away from origin `at` (its provider's key is now bound
    to `now`), and the ways out. No request is made."""
    return (
        f"{what} lives at {at} and {why}, but its provider's key is now bound to {now}, so its "
        "destroy could not reach it and it would be left as it is; nothing was sent. Either "
        f"give {at} a provider of its own with its key (`host_provider(NAME, base_url=..., "
        "api_key=...)`, see examples/move-host) and keep it declared, with this "
        f"resource on it, until the move is done; or, with the stack still set for {at}, let it "
        "finish or cancel it there and run `pulumi refresh`; or, to leave it as it is on "
        'purpose, set on_destroy="keep" in a `pulumi up` before the move'
    )


def forgotten(what: str, why: str, *, asked: bool = False, done: bool = False) -> str:
    """What a delete that found nothing to delete (`asked`), or sent nothing, says on the
    resource's row; `done`: nothing was left to do there (a finished job)."""
    if done:
        return f"{what} {why}: it is left there as it is (nothing was sent, none was needed)"
    sent = "it" if asked else "no request was sent, and it"
    return (
        f"{what} {why}: {sent} is forgotten, not cancelled or deleted; it "
        "stays as it is where it lives. To have a delete reach its own host with its own key, "
        "give each host a provider of its own (`host_provider`, see examples/move-host) and keep "
        "the old one declared until the move is done"
    )


def kept_unread(what: str, why: str) -> str:
    """What a refresh that sent nothing says: the state is kept as recorded."""
    return (
        f"{what} {why}: it was not read, and its destroy would send nothing (asking from here "
        "would send the key elsewhere, or ask the wrong place and drop it from state); its "
        "state is kept as last recorded. Give its origin a provider of its own "
        "(`host_provider`) to refresh or destroy it"
    )


def check_host(provider: object, inputs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Set `inputs["host"]` to the resolved host (unknown while what decides it is), or say why
    the declared one is not a host. Local: no request."""
    config = getattr(provider, _CONFIG_ATTR, None) or {}
    argument, base_url = inputs.get(settings_mod.HOST_ARGUMENT), inputs.get("base_url")
    if is_unknown(argument):
        return
    if argument is not None and not isinstance(argument, str):
        yield "host", f"got {argument!r}; must be a string"
        return
    if settings_mod.declared_host(argument, config) is None and is_unknown(base_url):
        inputs[settings_mod.HOST_ARGUMENT] = base_url  # unknown too: known at `pulumi up`
        return
    try:
        url = settings_mod.effective_base_url({"base_url": base_url}, config)
    except SettingsError:
        return  # check_connection_options names the bad base URL
    try:
        inputs[settings_mod.HOST_ARGUMENT] = settings_mod.resolve_host(argument, config, url).name
    except SettingsError as exc:
        yield "host", str(exc)
    yield from _check_origin(inputs, config, url)


# Origins warned about in this process: one warning each, however many resources use them.
_warned_in_clear: set[str] = set()


def _check_origin(
    inputs: Mapping[str, Any], config: Mapping[str, Any], url: str
) -> Iterator[tuple[str, str]]:
    """The base URL must be at the origin the provider's credentials are bound to; a credential
    sent in clear text off loopback is warned about once. Local: no request."""
    try:
        bound = settings_mod.origin(settings_mod.configured_base_url(config))
    except SettingsError as exc:
        yield "base_url", str(exc)
        return
    here = settings_mod.origin(url)
    if here != bound:
        yield "base_url", settings_mod.unbound_origin(here, bound)
        return
    keyed = settings_mod.has_credential(config)
    if keyed and settings_mod.in_clear_off_loopback(url) and here not in _warned_in_clear:
        _warn_in_clear(inputs, here)


def _warn_in_clear(inputs: Mapping[str, Any], here: str) -> None:
    """One warning per origin and provider process: on the job's row (its URN is an input), or
    for a resource without one (a file) on stderr, which the CLI shows on the stack's row."""
    from .waiting import engine_log

    message = (
        f"the key for {here} is sent over plain http:// to a host that is not loopback: anyone "
        "on the network path can read it and spend on its account. Use https:// unless the "
        "network in between is yours (a gateway inside a cluster)"
    )
    _warned_in_clear.add(here)
    urn = inputs.get(URN_INPUT)
    known = isinstance(urn, str) and urn and not is_unknown(urn)
    if not (known and engine_log().warning(str(urn), message)):
        print(f"warning: {message}", file=sys.stderr, flush=True)


def check_connection_options(news: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    base_url = news.get("base_url")
    if (
        isinstance(base_url, str)
        and not is_unknown(base_url)
        and not base_url.startswith(("http://", "https://"))
    ):
        yield "base_url", f"got {base_url!r}; must start with http:// or https://"
    for key in CONNECTION_OPTIONS:
        value = news.get(key)
        if value is not None and not isinstance(value, str) and not is_unknown(value):
            yield key, f"got {value!r}; must be a string"
