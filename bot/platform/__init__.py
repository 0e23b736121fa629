"""The port to the platform (如法网), the system of record for learners' accounts.

Whatever must change on the platform (a password reset to the default, a transfer, an exemption
flag, an exam registration) is written as a platform task in the same transaction as the action
and its audit row (a transactional outbox, ``tasks.submit``). A worker delivers tasks through one
gateway, chosen by ``[platform] gateway``: ``http`` (the platform's API), ``operator`` (a person
works the queue) or ``sandbox`` (an in-process stand-in). The requester is told the outcome only
when the platform has applied or refused the task.
"""
