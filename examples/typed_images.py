"""Build a CT image and a Segmentation of it with the generated typed classes, write both.

Every module is a frozen attrs class whose fields are PS3.6 keywords in snake_case, typed by
VR and VM: mypy --strict checks that each Type 1 and Type 2 attribute is given (Type 2 may be
``None``: present, empty) and that each value has its VR's type.  The Segmentation's
functional groups are typed too: its shared and per-frame items
(``SegmentationFunctionalGroupsItem``) hold the sequences of the functional group macros the
IOD allows (Pixel Measures, Plane Position, Frame Content, Segment Identification …).
``to_dataset`` turns the IOD into a Dataset, which ``write_file`` writes as a Part 10 file.

Run ``python examples/typed_images.py OUT_DIR``; it prints the two files it wrote.

References
----------
PS3.3 A.3 (CT Image IOD), A.51 (Segmentation IOD), C.7.6.16 (functional groups); PS3.10 §7.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from dicompile.generated import tags, uids
from dicompile.generated.iods.ct_image import CTImage
from dicompile.generated.iods.segmentation import (
    Segmentation,
    SegmentationFunctionalGroupsItem,
    SegmentationMultiFrameFunctionalGroupsModule,
)
from dicompile.generated.modules.ct_image import CTImageModule
from dicompile.generated.modules.enhanced_general_equipment import (
    EnhancedGeneralEquipmentModule,
)
from dicompile.generated.modules.frame_of_reference import FrameOfReferenceModule
from dicompile.generated.modules.general_equipment import GeneralEquipmentModule
from dicompile.generated.modules.general_image import GeneralImageModule
from dicompile.generated.modules.general_series import GeneralSeriesModule
from dicompile.generated.modules.general_study import GeneralStudyModule
from dicompile.generated.modules.image_pixel import ImagePixelModule
from dicompile.generated.modules.image_plane import ImagePlaneModule
from dicompile.generated.modules.macros.code_sequence import CodeSequenceMacro
from dicompile.generated.modules.macros.frame_content import FrameContentMacro
from dicompile.generated.modules.macros.pixel_measures import PixelMeasuresMacro
from dicompile.generated.modules.macros.plane_orientation_patient import (
    PlaneOrientationPatientMacro,
)
from dicompile.generated.modules.macros.plane_position_patient import PlanePositionPatientMacro
from dicompile.generated.modules.macros.segment_description import SegmentDescriptionMacro
from dicompile.generated.modules.macros.segmentation import SegmentationMacro
from dicompile.generated.modules.multi_frame_dimension import MultiFrameDimensionModule
from dicompile.generated.modules.patient import PatientModule
from dicompile.generated.modules.segmentation_image import SegmentationImageModule
from dicompile.generated.modules.segmentation_series import SegmentationSeriesModule
from dicompile.generated.modules.sop_common import SOPCommonModule
from dicompile.runtime import write_file
from dicompile.runtime.core.values import DA, TM, PersonName, uid_from_uuid

ROWS = COLUMNS = 4
#: Where the CT image (and the segmentation's one frame) lies: Image Position (Patient).
POSITION = (-1.0, -1.0, 0.0)
ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SPACING = (0.5, 0.5)
#: CT numbers of the 4x4 image, row by row (stored values; rescale slope 1, intercept -1024).
CT_PIXELS = tuple(1024 + 10 * i for i in range(ROWS * COLUMNS))


def build_ct(patient: PatientModule, study: GeneralStudyModule, frame_of_reference: str) -> CTImage:
    """A 4x4 CT image, 16 bits unsigned, of ``patient`` in ``study``."""
    return CTImage(
        patient=patient,
        general_study=study,
        general_series=GeneralSeriesModule(
            modality="CT", series_instance_uid=uid_from_uuid(), series_number=1
        ),
        frame_of_reference=FrameOfReferenceModule(
            frame_of_reference_uid=frame_of_reference, position_reference_indicator=None
        ),
        general_equipment=GeneralEquipmentModule(manufacturer="dicompile"),
        general_image=GeneralImageModule(instance_number=1),
        image_plane=ImagePlaneModule(
            pixel_spacing=SPACING,
            image_orientation_patient=ORIENTATION,
            image_position_patient=POSITION,
            slice_thickness=1.0,
        ),
        image_pixel=ImagePixelModule(
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            rows=ROWS,
            columns=COLUMNS,
            bits_allocated=16,
            bits_stored=16,
            high_bit=15,
            pixel_representation=0,
            pixel_data=struct.pack(f"<{len(CT_PIXELS)}H", *CT_PIXELS),
        ),
        ct_image=CTImageModule(
            image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            bits_allocated=16,
            bits_stored=16,
            high_bit=15,
            rescale_intercept=-1024.0,
            rescale_slope=1.0,
            kvp=120.0,
            acquisition_number=None,
        ),
        sop_common=SOPCommonModule(
            sop_class_uid=uids.CTImageStorage, sop_instance_uid=uid_from_uuid()
        ),
    )


def _code(value: str, scheme: str, meaning: str) -> CodeSequenceMacro:
    return CodeSequenceMacro(
        code_value=value, coding_scheme_designator=scheme, code_meaning=meaning
    )


def build_segmentation(
    patient: PatientModule, study: GeneralStudyModule, frame_of_reference: str
) -> Segmentation:
    """A binary segmentation of one frame (the upper half of the CT image) with one segment."""
    mask = bytes([0b11111111, 0b00000000])  # 16 pixels, 1 bit each: the first 8 are set
    dimension = uid_from_uuid()
    # What all frames share (PS3.3 C.7.6.16.2.1, .4): pixel spacing, slice thickness and
    # orientation; what is each frame's own (C.7.6.16.2.2, .3, C.8.20.3): its position, its
    # place in the dimension index and the segment it shows.
    shared = SegmentationFunctionalGroupsItem(
        pixel_measures_sequence=(
            PixelMeasuresMacro.PixelMeasuresSequenceItem(
                pixel_spacing=SPACING, slice_thickness=1.0
            ),
        ),
        plane_orientation_sequence=(
            PlaneOrientationPatientMacro.PlaneOrientationSequenceItem(
                image_orientation_patient=ORIENTATION
            ),
        ),
    )
    frame = SegmentationFunctionalGroupsItem(
        plane_position_sequence=(
            PlanePositionPatientMacro.PlanePositionSequenceItem(image_position_patient=POSITION),
        ),
        frame_content_sequence=(
            FrameContentMacro.FrameContentSequenceItem(dimension_index_values=(1,)),
        ),
        segment_identification_sequence=(
            SegmentationMacro.SegmentIdentificationSequenceItem(referenced_segment_number=(1,)),
        ),
    )
    return Segmentation(
        patient=patient,
        general_study=study,
        general_series=GeneralSeriesModule(
            modality="SEG", series_instance_uid=uid_from_uuid(), series_number=2
        ),
        segmentation_series=SegmentationSeriesModule(modality="SEG", series_number=2),
        frame_of_reference=FrameOfReferenceModule(
            frame_of_reference_uid=frame_of_reference, position_reference_indicator=None
        ),
        general_equipment=GeneralEquipmentModule(manufacturer="dicompile"),
        enhanced_general_equipment=EnhancedGeneralEquipmentModule(
            manufacturer="dicompile",
            manufacturer_model_name="typed example",
            device_serial_number="0001",
            software_versions=("0.1",),
        ),
        general_image=GeneralImageModule(instance_number=1),
        image_pixel=ImagePixelModule(
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            rows=ROWS,
            columns=COLUMNS,
            bits_allocated=1,
            bits_stored=1,
            high_bit=0,
            pixel_representation=0,
            pixel_data=mask,
        ),
        segmentation_image=SegmentationImageModule(
            image_type=("DERIVED", "PRIMARY"),
            instance_number=1,
            content_label="TOP_HALF",
            content_description=None,
            content_creator_name=PersonName("Typed^Example"),
            samples_per_pixel=1,
            photometric_interpretation="MONOCHROME2",
            pixel_representation=0,
            bits_allocated=1,
            bits_stored=1,
            high_bit=0,
            lossy_image_compression="00",
            segmentation_type="BINARY",
            segment_sequence=(
                SegmentationImageModule.SegmentSequenceItem(
                    segment_number=1,
                    segment_label="upper half",
                    segment_algorithm_type="MANUAL",
                    segmented_property_category_code_sequence=(
                        _code("91723000", "SCT", "Anatomical Structure"),
                    ),
                    segmented_property_type_code_sequence=(
                        SegmentDescriptionMacro.SegmentedPropertyTypeCodeSequenceItem(
                            code_value="39607008",
                            coding_scheme_designator="SCT",
                            code_meaning="Lung",
                        ),
                    ),
                ),
            ),
        ),
        multi_frame_functional_groups=SegmentationMultiFrameFunctionalGroupsModule(
            shared_functional_groups_sequence=(shared,),
            per_frame_functional_groups_sequence=(frame,),
            instance_number=1,
            content_date=DA("20240102"),
            content_time=TM("120000"),
            number_of_frames=1,
        ),
        multi_frame_dimension=MultiFrameDimensionModule(
            dimension_organization_sequence=(
                MultiFrameDimensionModule.DimensionOrganizationSequenceItem(
                    dimension_organization_uid=dimension
                ),
            ),
            # The frames' one dimension: the segment each shows (PS3.3 C.7.6.17.1, C.8.20.2).
            dimension_index_sequence=(
                MultiFrameDimensionModule.DimensionIndexSequenceItem(
                    dimension_index_pointer=tags.ReferencedSegmentNumber,
                    functional_group_pointer=tags.SegmentIdentificationSequence,
                    dimension_organization_uid=dimension,
                ),
            ),
        ),
        sop_common=SOPCommonModule(
            sop_class_uid=uids.SegmentationStorage, sop_instance_uid=uid_from_uuid()
        ),
    )


def main(out_dir: Path) -> tuple[Path, Path]:
    """Write ``ct.dcm`` and ``seg.dcm`` into ``out_dir``; return their paths."""
    patient = PatientModule(
        patient_name=PersonName("Doe^Jane"),
        patient_id="TYPED-1",
        patient_birth_date=DA("19700101"),
        patient_sex="F",
    )
    study = GeneralStudyModule(
        study_instance_uid=uid_from_uuid(),
        study_date=DA("20240102"),
        study_time=TM("120000"),
        referring_physician_name=None,
        study_id="1",
        accession_number=None,
    )
    frame_of_reference = uid_from_uuid()
    ct_path, seg_path = out_dir / "ct.dcm", out_dir / "seg.dcm"
    write_file(ct_path, build_ct(patient, study, frame_of_reference).to_dataset())
    write_file(seg_path, build_segmentation(patient, study, frame_of_reference).to_dataset())
    return ct_path, seg_path


if __name__ == "__main__":
    for written in main(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(written)
