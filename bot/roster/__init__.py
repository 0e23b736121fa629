"""The roster: learners, transfers and password resets."""
