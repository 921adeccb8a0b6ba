// Placeholder until the storage backends land (storage issue).
