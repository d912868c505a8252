"""PDUs as hex, one field a line, written by hand from PS3.8 §9.3 / Annex D and PS3.7 D.3.3.

Every length below was counted by hand from the field layout; the encoder is tested
against these bytes, never the other way round.  Byte numbers in comments are the
standard's 1-based "PDU bytes" / "Item bytes".
"""

from __future__ import annotations

# -- UIDs and names used below, with their byte counts ----------------------------------
DICOM_PREFIX = "312e322e3834302e31303030382e"  # "1.2.840.10008." (14 bytes)
APPLICATION_CONTEXT = DICOM_PREFIX + "332e312e312e31"  # "1.2.840.10008.3.1.1.1" (21)
VERIFICATION = DICOM_PREFIX + "312e31"  # "1.2.840.10008.1.1" (17)
IMPLICIT_LE = DICOM_PREFIX + "312e32"  # "1.2.840.10008.1.2" (17)
STUDY_ROOT_FIND = DICOM_PREFIX + "352e312e342e312e322e322e31"  # "...5.1.4.1.2.2.1" (27)
PROCEDURE_LOG = DICOM_PREFIX + "352e312e342e312e312e38382e3430"  # "...5.1.4.1.1.88.40" (29)
ENHANCED_SR = DICOM_PREFIX + "352e312e342e312e312e38382e3232"  # "...5.1.4.1.1.88.22" (29)
STORAGE_SERVICE = DICOM_PREFIX + "342e32"  # "1.2.840.10008.4.2" (17)
IMPLEMENTATION_UID = "312e322e332e342e35"  # "1.2.3.4.5" (9)
VERSION_NAME = "4449434f4d50494c455f3031"  # "DICOMPILE_01" (12)
ANY_SCP = "414e592d534350" + "20" * 9  # "ANY-SCP" and 9 spaces (16)
ECHOSCU = "4543484f534355" + "20" * 9  # "ECHOSCU" and 9 spaces (16)


def _hex(*parts: str) -> bytes:
    return bytes.fromhex("".join(parts))


# -- Items shared by the association PDUs ---------------------------------------------
APPLICATION_CONTEXT_ITEM = (
    "10"  # Table 9-12 byte 1: Item-type 10H
    "00"  # byte 2: reserved
    "0015"  # bytes 3-4: Item-length 21
    + APPLICATION_CONTEXT  # bytes 5-25: Application-context-name
)  # 25 bytes

PRESENTATION_CONTEXT_RQ_ITEM = (
    "20"  # Table 9-13 byte 1: Item-type 20H
    "00"  # byte 2: reserved
    "002e"  # bytes 3-4: Item-length 46 = 4 + 21 + 21
    "01"  # byte 5: Presentation-context-ID 1
    "000000"  # bytes 6-8: reserved
    "30"  # Table 9-14 byte 1: Item-type 30H (abstract syntax)
    "00"  # byte 2: reserved
    "0011"  # bytes 3-4: Item-length 17
    + VERIFICATION  # bytes 5-21: Abstract-syntax-name
    + "40"  # Table 9-15 byte 1: Item-type 40H (transfer syntax)
    "00"  # byte 2: reserved
    "0011"  # bytes 3-4: Item-length 17
     + IMPLICIT_LE  # bytes 5-21: Transfer-syntax-name
)  # 50 bytes

USER_INFORMATION_ITEM = (
    "50"  # Table 9-16 byte 1: Item-type 50H
    "00"  # byte 2: reserved
    "0025"  # bytes 3-4: Item-length 37 = 8 + 13 + 16
    "51"  # Table D.1-1 byte 1: Item-type 51H (maximum length)
    "00"  # byte 2: reserved
    "0004"  # bytes 3-4: Item-length 4
    "00004000"  # bytes 5-8: Maximum-length-received 16384
    "52"  # PS3.7 Table D.3-1 byte 1: Item-type 52H (implementation class UID)
    "00"  # byte 2: reserved
    "0009"  # bytes 3-4: Item-length 9
    + IMPLEMENTATION_UID  # bytes 5-13: Implementation-class-uid
    + "55"  # PS3.7 Table D.3-3 byte 1: Item-type 55H (implementation version name)
    "00"  # byte 2: reserved
    "000c"  # bytes 3-4: Item-length 12
     + VERSION_NAME  # bytes 5-16: Implementation-version-name
)  # 41 bytes

# -- A-ASSOCIATE-RQ (Table 9-11) -------------------------------------------------------
ASSOCIATE_RQ = _hex(
    "01",  # byte 1: PDU-type 01H
    "00",  # byte 2: reserved
    "000000b8",  # bytes 3-6: PDU-length 184 = 68 + 25 + 50 + 41
    "0001",  # bytes 7-8: Protocol-version, bit 0 set
    "0000",  # bytes 9-10: reserved
    ANY_SCP,  # bytes 11-26: Called-AE-title
    ECHOSCU,  # bytes 27-42: Calling-AE-title
    "00" * 32,  # bytes 43-74: reserved
    APPLICATION_CONTEXT_ITEM,  # bytes 75-99
    PRESENTATION_CONTEXT_RQ_ITEM,  # bytes 100-149
    USER_INFORMATION_ITEM,  # bytes 150-190
)

# -- A-ASSOCIATE-AC (Table 9-17) -------------------------------------------------------
PRESENTATION_CONTEXT_AC_ITEM = (
    "21"  # Table 9-18 byte 1: Item-type 21H
    "00"  # byte 2: reserved
    "0019"  # bytes 3-4: Item-length 25 = 4 + 21
    "01"  # byte 5: Presentation-context-ID 1
    "00"  # byte 6: reserved
    "00"  # byte 7: Result/Reason 0, acceptance
    "00"  # byte 8: reserved
    "40"  # Table 9-19 byte 1: Item-type 40H
    "00"  # byte 2: reserved
    "0011" + IMPLICIT_LE  # bytes 3-4: Item-length 17  # bytes 5-21: Transfer-syntax-name
)  # 29 bytes

ASSOCIATE_AC = _hex(
    "02",  # byte 1: PDU-type 02H
    "00",  # byte 2: reserved
    "000000a3",  # bytes 3-6: PDU-length 163 = 68 + 25 + 29 + 41
    "0001",  # bytes 7-8: Protocol-version
    "0000",  # bytes 9-10: reserved
    ANY_SCP,  # bytes 11-26: reserved, the RQ's called AE title
    ECHOSCU,  # bytes 27-42: reserved, the RQ's calling AE title
    "00" * 32,  # bytes 43-74: reserved, as in the RQ
    APPLICATION_CONTEXT_ITEM,  # bytes 75-99
    PRESENTATION_CONTEXT_AC_ITEM,  # bytes 100-128
    USER_INFORMATION_ITEM,  # bytes 129-169
)

# -- Every user information sub-item (PS3.8 D.1, PS3.7 D.3.3) ---------------------------
FULL_RQ_USER_INFORMATION = (
    "50"  # Table 9-16: Item-type 50H
    "00"  # reserved
    "00d1"  # Item-length 209 = 8 + 13 + 8 + 25 + 16 + 34 + 87 + 18
    # Maximum Length (Table D.1-1)
    "51"  # Item-type 51H
    "00"  # reserved
    "0004"  # Item-length 4
    "00000000"  # Maximum-length-received 0: no maximum
    # Implementation Class UID (PS3.7 Table D.3-1)
    "52"  # Item-type 52H
    "00"  # reserved
    "0009"  # Item-length 9
    + IMPLEMENTATION_UID  # Implementation-class-uid
    # Asynchronous Operations Window (PS3.7 Table D.3-7)
    + "53"  # Item-type 53H
    "00"  # reserved
    "0004"  # Item-length 4
    "0005"  # bytes 5-6: Maximum-number-operations-invoked 5
    "0001"  # bytes 7-8: Maximum-number-operations-performed 1
    # SCP/SCU Role Selection (PS3.7 Table D.3-9)
    "54"  # Item-type 54H
    "00"  # reserved
    "0015"  # Item-length 21 = 2 + 17 + 1 + 1
    "0011"  # bytes 5-6: UID-length 17
    + VERIFICATION  # bytes 7-23: SOP-class-uid
    + "01"  # SCU-role: supported
    "00"  # SCP-role: not supported
    # Implementation Version Name (PS3.7 Table D.3-3)
    "55"  # Item-type 55H
    "00"  # reserved
    "000c"  # Item-length 12
    + VERSION_NAME  # Implementation-version-name
    # SOP Class Extended Negotiation (PS3.7 Table D.3-11)
    + "56"  # Item-type 56H
    "00"  # reserved
    "001e"  # Item-length 30 = 2 + 27 + 1
    "001b"  # bytes 5-6: SOP-class-uid-length 27
    + STUDY_ROOT_FIND  # bytes 7-33: SOP-class-uid
    + "01"  # Service-class-application-information (PS3.4 C.5.1.1: relational queries)
    # SOP Class Common Extended Negotiation (PS3.7 Tables D.3-12, D.3-13)
    "57"  # Item-type 57H
    "00"  # byte 2: Sub-item-version 0
    "0053"  # Item-length 83 = 2 + 29 + 2 + 17 + 2 + (2 + 29)
    "001d"  # SOP-class-uid-length 29
    + PROCEDURE_LOG  # SOP-class-uid
    + "0011"  # Service-class-uid-length 17
    + STORAGE_SERVICE  # Service-class-uid
    + "001f"  # Related-general-sop-class-identification-length 31
    "001d"  # Related-general-sop-class-uid-length 29
    + ENHANCED_SR  # Related-general-sop-class-uid
    # User Identity Negotiation (PS3.7 Table D.3-14)
    + "58"  # Item-type 58H
    "00"  # reserved
    "000e"  # Item-length 14 = 1 + 1 + 2 + 4 + 2 + 4
    "02"  # byte 5: User-Identity-Type 2, username and passcode
    "01"  # byte 6: Positive-response-requested
    "0004"  # bytes 7-8: Primary-field-length 4
    "75736572"  # Primary-field "user"
    "0004"  # Secondary-field-length 4
    "70617373"  # Secondary-field "pass"
)  # 213 bytes

ASSOCIATE_RQ_FULL = _hex(
    "01",  # PDU-type 01H
    "00",  # reserved
    "00000164",  # PDU-length 356 = 68 + 25 + 50 + 213
    "0001",  # Protocol-version
    "0000",  # reserved
    ANY_SCP,  # Called-AE-title
    ECHOSCU,  # Calling-AE-title
    "00" * 32,  # reserved
    APPLICATION_CONTEXT_ITEM,
    PRESENTATION_CONTEXT_RQ_ITEM,
    FULL_RQ_USER_INFORMATION,
)

FULL_AC_USER_INFORMATION = (
    "50"  # Table 9-20: Item-type 50H
    "00"  # reserved
    "0072"  # Item-length 114 = 8 + 13 + 8 + 25 + 16 + 34 + 10
    "51"
    "00"
    "0004"
    "00008000"  # Maximum Length 32768
    "52"
    "00"
    "0009"
    + IMPLEMENTATION_UID  # Implementation Class UID (Table D.3-2)
    + "53"
    "00"
    "0004"
    "0001"
    "0001"  # Asynchronous Operations Window 1, 1 (Table D.3-8)
    "54"
    "00"
    "0015"
    "0011" + VERIFICATION + "01"
    "00"  # Role Selection (Table D.3-10)
    "55"
    "00"
    "000c"
    + VERSION_NAME  # Implementation Version Name (Table D.3-4)
    + "56"
    "00"
    "001e"
    "001b" + STUDY_ROOT_FIND + "01"  # Extended Negotiation (D.3-11)
    # User Identity Negotiation, A-ASSOCIATE-AC (PS3.7 Table D.3-15)
    "59"  # Item-type 59H
    "00"  # reserved
    "0006"  # Item-length 6 = 2 + 4
    "0004"  # bytes 5-6: Server-response-length 4
    "7469636b"  # bytes 7-10: Server-response "tick"
)  # 118 bytes

PRESENTATION_CONTEXT_AC_REJECTED = (
    "21"  # Table 9-18: Item-type 21H
    "00"  # reserved
    "0008"  # Item-length 8 = 4 + 4
    "03"  # Presentation-context-ID 3
    "00"  # reserved
    "03"  # Result/Reason 3: abstract-syntax-not-supported (provider rejection)
    "00"  # reserved
    "40"
    "00"
    "0000"  # Transfer syntax sub-item, empty: not significant when rejected
)  # 12 bytes

ASSOCIATE_AC_FULL = _hex(
    "02",  # PDU-type 02H
    "00",  # reserved
    "000000fc",  # PDU-length 252 = 68 + 25 + 29 + 12 + 118
    "0001",  # Protocol-version
    "0000",  # reserved
    ANY_SCP,  # reserved (called AE title of the RQ)
    ECHOSCU,  # reserved (calling AE title of the RQ)
    "00" * 32,  # reserved
    APPLICATION_CONTEXT_ITEM,
    PRESENTATION_CONTEXT_AC_ITEM,
    PRESENTATION_CONTEXT_AC_REJECTED,
    FULL_AC_USER_INFORMATION,
)

# -- A-ASSOCIATE-RJ (Table 9-21) -------------------------------------------------------
ASSOCIATE_RJ = _hex(
    "03",  # byte 1: PDU-type 03H
    "00",  # byte 2: reserved
    "00000004",  # bytes 3-6: PDU-length 4 (fixed)
    "00",  # byte 7: reserved
    "01",  # byte 8: Result 1, rejected-permanent
    "01",  # byte 9: Source 1, DICOM UL service-user
    "07",  # byte 10: Reason/Diag. 7, called-AE-title-not-recognized
)

# -- P-DATA-TF (Tables 9-22, 9-23; Annex E.2) ------------------------------------------
P_DATA_TF = _hex(
    "04",  # byte 1: PDU-type 04H
    "00",  # byte 2: reserved
    "00000016",  # bytes 3-6: PDU-length 22 = (4 + 10) + (4 + 4)
    "0000000a",  # PDV 1 item bytes 1-4: Item-length 10 = 1 + 1 + 8
    "01",  # byte 5: Presentation-context-ID 1
    "03",  # byte 6: message control header: command (bit 0), last fragment (bit 1)
    "0000000004000000",  # fragment: (0000,0000) UL, length 4 (implicit VR LE)
    "00000004",  # PDV 2 Item-length 4 = 1 + 1 + 2
    "01",  # Presentation-context-ID 1
    "00",  # message control header: data set, not the last fragment
    "1000",  # fragment
)

# -- A-RELEASE-RQ, A-RELEASE-RP (Tables 9-24, 9-25) ------------------------------------
RELEASE_RQ = _hex("05", "00", "00000004", "00000000")  # type, reserved, length 4, reserved
RELEASE_RP = _hex("06", "00", "00000004", "00000000")  # type, reserved, length 4, reserved

# -- A-ABORT (Table 9-26) --------------------------------------------------------------
ABORT_PROVIDER = _hex(
    "07",  # byte 1: PDU-type 07H
    "00",  # byte 2: reserved
    "00000004",  # bytes 3-6: PDU-length 4
    "00",  # byte 7: reserved
    "00",  # byte 8: reserved
    "02",  # byte 9: Source 2, DICOM UL service-provider
    "02",  # byte 10: Reason/Diag. 2, unexpected-PDU
)
ABORT_USER = _hex("07", "00", "00000004", "0000", "00", "00")  # source 0: service-user
