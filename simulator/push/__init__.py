"""Carrier push: subscriptions, and signed webhooks that fire on the simulated clock.

``model`` (the data), ``store`` (where it is kept; :meth:`~store.PushStore.claim` is the
one call a shared store must make atomic) and ``dispatch`` (the scheduler and the delivery
loop). Each carrier's subscription API, push body, signature and retry rule live in its
own ``simulator/carriers/<name>/push.py``, typed by
:class:`~simulator.carriers.contract.PushProfile`.
"""
