"""Hand-built Data Sets for the validator tests: a minimal CT Image that conforms.

Every attribute below is one PS3.3 2020 requires of a CT Image (A.3) through its Mandatory
modules; the tests remove or spoil one at a time and assert the one finding that follows.
"""

from __future__ import annotations

from dicompile.runtime.core.dataset import Dataset
from dicompile.runtime.core.sequence import Sequence

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1"


def ct_image() -> Dataset:
    """A CT Image (PS3.3 A.3) with every Type 1 and 2 attribute of its Mandatory modules."""
    ds = Dataset()
    # Patient Module (C.7.1.1): Type 2 attributes.
    ds["PatientName"] = "Doe^Jane"
    ds["PatientID"] = "P1"
    ds["PatientBirthDate"] = "19700101"
    ds["PatientSex"] = "F"
    # General Study (C.7.2.1).
    ds["StudyInstanceUID"] = "1.2.3.4"
    ds["StudyDate"] = "20240101"
    ds["StudyTime"] = "120000"
    ds["ReferringPhysicianName"] = ""
    ds["StudyID"] = "S1"
    ds["AccessionNumber"] = ""
    # General Series (C.7.3.1).
    ds["Modality"] = "CT"
    ds["SeriesInstanceUID"] = "1.2.3.4.5"
    ds["SeriesNumber"] = 1
    ds["PatientPosition"] = "HFS"
    # Frame of Reference (C.7.4.1).
    ds["FrameOfReferenceUID"] = "1.2.3.4.6"
    ds["PositionReferenceIndicator"] = ""
    # General Equipment (C.7.5.1).
    ds["Manufacturer"] = "dicompile"
    # General Image (C.7.6.1).
    ds["InstanceNumber"] = 1
    ds["PatientOrientation"] = ""
    # Image Plane (C.7.6.2).
    ds["PixelSpacing"] = (0.5, 0.5)
    ds["ImageOrientationPatient"] = (1, 0, 0, 0, 1, 0)
    ds["ImagePositionPatient"] = (0, 0, 0)
    ds["SliceThickness"] = 1.0
    # Image Pixel (C.7.6.3) and CT Image (C.8.2.1).
    ds["ImageType"] = ("ORIGINAL", "PRIMARY", "AXIAL")
    ds["SamplesPerPixel"] = 1
    ds["PhotometricInterpretation"] = "MONOCHROME2"
    ds["Rows"] = 2
    ds["Columns"] = 2
    ds["BitsAllocated"] = 16
    ds["BitsStored"] = 12
    ds["HighBit"] = 11
    ds["PixelRepresentation"] = 0
    ds["RescaleIntercept"] = -1024
    ds["RescaleSlope"] = 1
    ds["KVP"] = 120
    ds["AcquisitionNumber"] = 1
    ds.set("PixelData", b"\x00" * 8, "OW")
    # SOP Common (C.12.1).
    ds["SOPClassUID"] = CT_IMAGE_STORAGE
    ds["SOPInstanceUID"] = "1.2.3.4.7"
    return ds


def item(**values: object) -> Dataset:
    """A Sequence Item from keywords."""
    ds = Dataset()
    for keyword, value in values.items():
        ds[keyword] = value
    return ds


def sequence(*items: Dataset) -> Sequence:
    return Sequence(list(items))


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """A Code Sequence Item (PS3.3 Table 8.8-1)."""
    return item(CodeValue=value, CodingSchemeDesignator=scheme, CodeMeaning=meaning)


def enhanced_ct_groups(frames: int = 2) -> Dataset:
    """The functional groups of an Enhanced CT Image (PS3.3 A.38, Table A.38-2): every
    Mandatory macro, Frame Content and Plane Position per frame, the others shared.

    Image Type is DERIVED so that the CT acquisition macros ("Required if Image Type Value 1
    is ORIGINAL or MIXED") are not required.  Only the functional groups are complete: the
    tests look at functional group findings.
    """
    ds = Dataset()
    ds["SOPClassUID"] = ENHANCED_CT_IMAGE_STORAGE
    ds["ImageType"] = ("DERIVED", "PRIMARY", "AXIAL", "NONE")
    ds["NumberOfFrames"] = frames
    shared = Dataset()
    shared["PixelMeasuresSequence"] = sequence(item(PixelSpacing=(0.5, 0.5), SliceThickness=1.0))
    shared["PlaneOrientationSequence"] = sequence(item(ImageOrientationPatient=(1, 0, 0, 0, 1, 0)))
    anatomy = item(FrameLaterality="U")
    anatomy["AnatomicRegionSequence"] = sequence(code("T-D3000", "SRT", "Chest"))
    shared["FrameAnatomySequence"] = sequence(anatomy)
    shared["IrradiationEventIdentificationSequence"] = sequence(item(IrradiationEventUID="1.2.3"))
    shared["CTImageFrameTypeSequence"] = sequence(
        item(
            FrameType=("DERIVED", "PRIMARY", "AXIAL", "NONE"),
            PixelPresentation="MONOCHROME",
            VolumetricProperties="VOLUME",
            VolumeBasedCalculationTechnique="NONE",
        )
    )
    shared["PixelValueTransformationSequence"] = sequence(
        item(RescaleIntercept=-1024, RescaleSlope=1, RescaleType="HU")
    )
    ds["SharedFunctionalGroupsSequence"] = sequence(shared)
    per_frame = []
    for index in range(frames):
        frame = Dataset()
        frame["FrameContentSequence"] = sequence(item(FrameAcquisitionNumber=index + 1))
        frame["PlanePositionSequence"] = sequence(item(ImagePositionPatient=(0, 0, index)))
        per_frame.append(frame)
    ds["PerFrameFunctionalGroupsSequence"] = sequence(*per_frame)
    return ds
