"""Community events across instances: Event documents, Join/Leave at home, remote copies and
our members' RSVPs to them."""
