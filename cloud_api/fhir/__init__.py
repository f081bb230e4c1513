"""FHIR R4 export following the HL7 Personal Health Device IG (docs/fhir.md)."""
