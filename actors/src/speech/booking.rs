//! Collecting a new booking: slot free, held, taken, booked, queued, calendar down.
