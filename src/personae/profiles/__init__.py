"""Customer profiles: the people agents talk to, their channel identities, fields and assets."""
