//! What is not about one appointment: service not in service, unreadable args, durations, free-slot lists.
